/* domain.c - the registry of domains (domain.h). */
#include "domain.h"

#include <string.h>

const Domain *const domains[] = {&domain_cartag, &domain_gandalf, NULL};

const Domain *domain_find(const char *name)
{
    for (int i = 0; name && domains[i]; i++)
        if (strcmp(domains[i]->name, name) == 0)
            return domains[i];
    return NULL;
}

const Domain *domain_of_side_macro(const char *macro)
{
    for (int i = 0; macro && domains[i]; i++)
        for (int side = 1; side <= 2; side++)
            if (strcmp(domains[i]->side_macro[side], macro) == 0)
                return domains[i];
    return NULL;
}

const char *domain_names(void)
{
    return "cartag, gandalf";
}
