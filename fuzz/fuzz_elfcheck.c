/* fuzz_elfcheck.c - libFuzzer target: the ELF inspector on arbitrary images. */
#include <stddef.h>
#include <stdint.h>

#include "sandbox/elfcheck.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char why[256];
    elfcheck_policy(data, size, why, sizeof why);
    return 0;
}
