/* seccomp_policy.c - placeholder */
typedef int seccomp_placeholder_t;
