/* fuzz_scan.c - libFuzzer target: the policy source scanner on arbitrary bytes. */
#include <stddef.h>
#include <stdint.h>

#include "sandbox/scan.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char why[512];
    int side;
    scan_policy_source((const char *)data, size, &side, why, sizeof why);
    return 0;
}
