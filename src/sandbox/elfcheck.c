/* elfcheck.c - bounds-checked ELF64 section/dynamic/symbol inspection. */
#include "elfcheck.h"

#include <elf.h>
#include <stdlib.h>
#include <string.h>

#include "../core/util.h"

/* Imports refused up front: the sandbox would kill the policy for them. */
static const char *const forbidden_imports[] = {
    "fork", "vfork", "clone", "execve", "execv", "execvp", "execl", "execlp", "system",
    "popen", "posix_spawn", "posix_spawnp", "socket", "connect", "bind", "listen", "accept",
    "open", "open64", "openat", "fopen", "fopen64", "freopen", "creat", "unlink", "remove",
    "rename", "mkdir", "rmdir", "opendir", "kill", "ptrace", "dlopen", "dlsym",
    "getenv", "secure_getenv", "sleep", "usleep", "nanosleep", "pthread_create", "signal",
    "sigaction", "chdir", "chroot", "mmap", "mprotect", "syscall", NULL,
};

static const char *const required[] = {"fmsp_create", "fmsp_act", "fmsp_free",
                                       "fmsp_policy_side", NULL};

static int in_bounds(size_t off, size_t size, size_t len)
{
    return off <= len && size <= len - off;
}

FmspErr elfcheck_policy(const void *image, size_t len, char *why, size_t whylen)
{
    const unsigned char *b = image;
    if (len < sizeof(Elf64_Ehdr) || memcmp(b, ELFMAG, SELFMAG) != 0 || b[EI_CLASS] != ELFCLASS64) {
        fmsp_errf(why, whylen, "compiled object is not a 64-bit ELF file");
        return FMSP_ERR_REFUSED;
    }
    Elf64_Ehdr eh;
    memcpy(&eh, b, sizeof eh);
    if (eh.e_shentsize != sizeof(Elf64_Shdr) ||
        !in_bounds(eh.e_shoff, (size_t)eh.e_shnum * sizeof(Elf64_Shdr), len) ||
        eh.e_shstrndx >= eh.e_shnum) {
        fmsp_errf(why, whylen, "compiled object has a malformed section table");
        return FMSP_ERR_REFUSED;
    }
    Elf64_Shdr *sh = xmalloc(sizeof *sh * (eh.e_shnum ? eh.e_shnum : 1));
    memcpy(sh, b + eh.e_shoff, sizeof *sh * eh.e_shnum);
    FmspErr e = FMSP_OK;
    const Elf64_Shdr *strs = &sh[eh.e_shstrndx];
    if (!in_bounds(strs->sh_offset, strs->sh_size, len)) {
        fmsp_errf(why, whylen, "compiled object has a malformed section name table");
        free(sh);
        return FMSP_ERR_REFUSED;
    }
    int found[4] = {0};
    for (int i = 0; i < eh.e_shnum && !e; i++) {
        const char *name = "";
        if (sh[i].sh_name < strs->sh_size) {
            name = (const char *)b + strs->sh_offset + sh[i].sh_name;
            if (!memchr(name, 0, strs->sh_size - sh[i].sh_name))
                name = "";
        }
        if (sh[i].sh_type == SHT_INIT_ARRAY || sh[i].sh_type == SHT_FINI_ARRAY ||
            sh[i].sh_type == SHT_PREINIT_ARRAY || strcmp(name, ".ctors") == 0 ||
            strcmp(name, ".dtors") == 0 || strcmp(name, ".init") == 0 || strcmp(name, ".fini") == 0) {
            if (sh[i].sh_size > 0) {
                fmsp_errf(why, whylen,
                          "compiled object has load-time code (%s); constructors and "
                          "destructors are not allowed",
                          name[0] ? name : "init/fini array");
                e = FMSP_ERR_REFUSED;
            }
            continue;
        }
        if (sh[i].sh_type == SHT_DYNAMIC) {
            if (!in_bounds(sh[i].sh_offset, sh[i].sh_size, len)) {
                e = FMSP_ERR_REFUSED;
                fmsp_errf(why, whylen, "compiled object has a malformed dynamic section");
                break;
            }
            size_t n = sh[i].sh_size / sizeof(Elf64_Dyn);
            for (size_t k = 0; k < n; k++) {
                Elf64_Dyn d;
                memcpy(&d, b + sh[i].sh_offset + k * sizeof d, sizeof d);
                if (d.d_tag == DT_INIT || d.d_tag == DT_FINI || d.d_tag == DT_INIT_ARRAY ||
                    d.d_tag == DT_FINI_ARRAY || d.d_tag == DT_PREINIT_ARRAY) {
                    fmsp_errf(why, whylen, "compiled object asks for load-time code (dynamic "
                                           "tag %lld); constructors are not allowed",
                              (long long)d.d_tag);
                    e = FMSP_ERR_REFUSED;
                    break;
                }
            }
            continue;
        }
        if (sh[i].sh_type == SHT_DYNSYM) {
            if (sh[i].sh_link >= eh.e_shnum || !in_bounds(sh[i].sh_offset, sh[i].sh_size, len) ||
                sh[i].sh_entsize != sizeof(Elf64_Sym)) {
                e = FMSP_ERR_REFUSED;
                fmsp_errf(why, whylen, "compiled object has a malformed symbol table");
                break;
            }
            const Elf64_Shdr *ss = &sh[sh[i].sh_link];
            if (!in_bounds(ss->sh_offset, ss->sh_size, len)) {
                e = FMSP_ERR_REFUSED;
                fmsp_errf(why, whylen, "compiled object has a malformed symbol name table");
                break;
            }
            size_t n = sh[i].sh_size / sizeof(Elf64_Sym);
            for (size_t k = 1; k < n && !e; k++) {
                Elf64_Sym sym;
                memcpy(&sym, b + sh[i].sh_offset + k * sizeof sym, sizeof sym);
                if (sym.st_name >= ss->sh_size)
                    continue;
                const char *sname = (const char *)b + ss->sh_offset + sym.st_name;
                if (!memchr(sname, 0, ss->sh_size - sym.st_name))
                    continue;
                if (sym.st_shndx == SHN_UNDEF) {
                    for (int f = 0; forbidden_imports[f]; f++)
                        if (strcmp(sname, forbidden_imports[f]) == 0) {
                            fmsp_errf(why, whylen,
                                      "the policy calls %s(), which the sandbox forbids "
                                      "(no files, processes, network, signals, sleeping or "
                                      "environment)",
                                      sname);
                            e = FMSP_ERR_REFUSED;
                            break;
                        }
                } else if (ELF64_ST_TYPE(sym.st_info) == STT_GNU_IFUNC) {
                    fmsp_errf(why, whylen, "the policy defines an indirect function (%s): its "
                                           "resolver would run at load time",
                              sname);
                    e = FMSP_ERR_REFUSED;
                } else {
                    for (int r = 0; required[r]; r++)
                        if (strcmp(sname, required[r]) == 0)
                            found[r] = 1;
                }
            }
        }
    }
    for (int r = 0; required[r] && !e; r++) {
        if (!found[r]) {
            fmsp_errf(why, whylen, "policy does not define %s%s", required[r],
                      r == 3 ? " (declare FMSP_SIDE(...) at file scope)" : "");
            e = FMSP_ERR_REFUSED;
        }
    }
    free(sh);
    return e;
}

FmspErr elfcheck_policy_file(const char *path, char *why, size_t whylen)
{
    char *data;
    size_t len;
    FmspErr e = util_read_file(path, 64u << 20, &data, &len, why, whylen);
    if (e)
        return e;
    e = elfcheck_policy(data, len, why, whylen);
    free(data);
    return e;
}
