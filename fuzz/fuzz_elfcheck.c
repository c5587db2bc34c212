/* fuzz_elfcheck.c - libFuzzer target: the ELF inspector on arbitrary images
 * (sections, the loader's view through the program headers, relocation
 * tables, the image size). Seed it with compiled policies from a cache. */
#include <stddef.h>
#include <stdint.h>

#include "sandbox/elfcheck.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char why[256];
    elfcheck_policy(data, size, why, sizeof why);
    elfcheck_image_bytes(data, size);
    return 0;
}
