/* guess.c - when a guess names the password (gandalf.h). */
#include <ctype.h>

#include "gandalf.h"

int gandalf_guess_matches(const char *guess, const char *password)
{
    const char *a = guess, *b = password;
    for (;;) {
        while (*a && !isalnum((unsigned char)*a))
            a++;
        while (*b && !isalnum((unsigned char)*b))
            b++;
        if (!*a || !*b)
            return !*a && !*b && guess[0];
        if (toupper((unsigned char)*a) != toupper((unsigned char)*b))
            return 0;
        a++;
        b++;
    }
}
