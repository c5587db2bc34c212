/* fuzz_scan.c - libFuzzer target: the policy source scanner on arbitrary bytes.
 * Besides memory errors it checks the result contract: accepted means a side
 * was read; refused means side 0 and a message that names a line or the
 * missing FMSP_SIDE. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fmsp_policy.h"
#include "sandbox/scan.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char why[512] = "";
    int side = -1;
    FmspErr e = scan_policy_source((const char *)data, size, &side, why, sizeof why);
    if (e == FMSP_OK && side != FMSP_PURSUER && side != FMSP_EVADER)
        abort();
    if (e != FMSP_OK && (side != 0 || (strncmp(why, "line ", 5) != 0 && !strstr(why, "FMSP_SIDE"))))
        abort();
    return 0;
}
