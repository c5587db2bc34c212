/* elfcheck.c - bounds-checked ELF64 inspection (see elfcheck.h): a pass over
 * the sections, then a pass over the dynamic segment the loader will use. */
#include "elfcheck.h"

#include <dlfcn.h>
#include <elf.h>
#include <pthread.h>
#include <stdint.h>
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

/* Entry points: every policy defines the first three, and one domain's set
 * of the rest (Car Tag: fmsp_act; a Gandalf attacker: fmsp_attack and
 * fmsp_guess; a Gandalf defender: the system prompt and the two guards). */
static const char *const required[] = {"fmsp_create", "fmsp_free", "fmsp_policy_side",
                                       "fmsp_act", "fmsp_attack", "fmsp_guess",
                                       "fmsp_system_prompt", "fmsp_input_guard",
                                       "fmsp_output_guard", NULL};
enum { N_COMMON = 3 };
static const struct {
    int first, count;
} entry_sets[] = {{3, 1}, {4, 2}, {6, 3}};

static int in_bounds(size_t off, size_t size, size_t len)
{
    return off <= len && size <= len - off;
}

static const char *const allowed_needed[] = {"libc.so.6", "libm.so.6", NULL};

/* Refuses the dynamic tags that make the loader run code or open files. */
static FmspErr check_dyn_tag(const Elf64_Dyn *d, const char *strtab, size_t strsz, char *why,
                             size_t whylen)
{
    switch (d->d_tag) {
    case DT_INIT: case DT_FINI: case DT_INIT_ARRAY: case DT_FINI_ARRAY: case DT_PREINIT_ARRAY:
        fmsp_errf(why, whylen, "compiled object asks for load-time code (dynamic tag %lld); "
                               "constructors are not allowed", (long long)d->d_tag);
        return FMSP_ERR_REFUSED;
    case DT_TEXTREL:
        fmsp_errf(why, whylen, "compiled object has text relocations (its code would be patched "
                               "at load time)");
        return FMSP_ERR_REFUSED;
    case DT_FLAGS:
        if (d->d_un.d_val & DF_TEXTREL) {
            fmsp_errf(why, whylen, "compiled object has text relocations (DF_TEXTREL)");
            return FMSP_ERR_REFUSED;
        }
        return FMSP_OK;
    case DT_AUXILIARY: case DT_FILTER: case DT_AUDIT: case DT_DEPAUDIT: case DT_RPATH: case DT_RUNPATH:
        fmsp_errf(why, whylen, "compiled object names other files for the loader (dynamic tag %lld)",
                  (long long)d->d_tag);
        return FMSP_ERR_REFUSED;
    case DT_NEEDED: {
        const char *lib = NULL;
        if (strtab && d->d_un.d_val < strsz && memchr(strtab + d->d_un.d_val, 0, strsz - d->d_un.d_val))
            lib = strtab + d->d_un.d_val;
        for (int i = 0; lib && allowed_needed[i]; i++)
            if (strcmp(lib, allowed_needed[i]) == 0)
                return FMSP_OK;
        fmsp_errf(why, whylen, "compiled object needs a library other than libc and libm%s%.60s%s",
                  lib ? " (" : "", lib ? lib : "", lib ? ")" : "");
        return FMSP_ERR_REFUSED;
    }
    default:
        return FMSP_OK;
    }
}

/* Refuses IRELATIVE entries in a table of Elf64_Rela (rel = 0) or Elf64_Rel. */
static FmspErr check_relocs(const unsigned char *b, size_t len, size_t off, size_t size, int rela,
                            char *why, size_t whylen)
{
    size_t ent = rela ? sizeof(Elf64_Rela) : sizeof(Elf64_Rel);
    if (!in_bounds(off, size, len)) {
        fmsp_errf(why, whylen, "compiled object has a malformed relocation table");
        return FMSP_ERR_REFUSED;
    }
    for (size_t k = 0; k + ent <= size; k += ent) {
        Elf64_Rel r;
        memcpy(&r, b + off + k, sizeof r);
        if (ELF64_R_TYPE(r.r_info) == R_X86_64_IRELATIVE) {
            fmsp_errf(why, whylen, "compiled object has an IRELATIVE relocation: a resolver "
                                   "would run at load time");
            return FMSP_ERR_REFUSED;
        }
    }
    return FMSP_OK;
}

/* File offset of virtual address va through the PT_LOAD segments, or -1. */
static long long va_to_off(const unsigned char *b, const Elf64_Ehdr *eh, size_t len, uint64_t va,
                           uint64_t size)
{
    for (int i = 0; i < eh->e_phnum; i++) {
        Elf64_Phdr ph;
        memcpy(&ph, b + eh->e_phoff + (size_t)i * sizeof ph, sizeof ph);
        if (ph.p_type == PT_LOAD && va >= ph.p_vaddr && size <= ph.p_filesz &&
            va - ph.p_vaddr <= ph.p_filesz - size) {
            uint64_t off = ph.p_offset + (va - ph.p_vaddr);
            return in_bounds(off, size, len) ? (long long)off : -1;
        }
    }
    return -1;
}

/* The loader's view: the dynamic segment and the relocation tables it names. */
static FmspErr check_segments(const unsigned char *b, size_t len, const Elf64_Ehdr *eh, char *why,
                              size_t whylen)
{
    if (eh->e_phnum == 0)
        return FMSP_OK;
    if (eh->e_phentsize != sizeof(Elf64_Phdr) ||
        !in_bounds(eh->e_phoff, (size_t)eh->e_phnum * sizeof(Elf64_Phdr), len)) {
        fmsp_errf(why, whylen, "compiled object has a malformed program header table");
        return FMSP_ERR_REFUSED;
    }
    for (int i = 0; i < eh->e_phnum; i++) {
        Elf64_Phdr ph;
        memcpy(&ph, b + eh->e_phoff + (size_t)i * sizeof ph, sizeof ph);
        if (ph.p_type == PT_INTERP) {
            fmsp_errf(why, whylen, "compiled object names a program interpreter");
            return FMSP_ERR_REFUSED;
        }
        if (ph.p_type != PT_DYNAMIC)
            continue;
        if (!in_bounds(ph.p_offset, ph.p_filesz, len)) {
            fmsp_errf(why, whylen, "compiled object has a malformed dynamic segment");
            return FMSP_ERR_REFUSED;
        }
        size_t n = ph.p_filesz / sizeof(Elf64_Dyn);
        uint64_t strtab = 0, strsz = 0, rela = 0, relasz = 0, rel = 0, relsz = 0, jmprel = 0,
                 pltrelsz = 0, pltrel = DT_RELA;
        for (size_t k = 0; k < n; k++) {
            Elf64_Dyn d;
            memcpy(&d, b + ph.p_offset + k * sizeof d, sizeof d);
            if (d.d_tag == DT_NULL)
                break;
            switch (d.d_tag) {
            case DT_STRTAB: strtab = d.d_un.d_ptr; break;
            case DT_STRSZ: strsz = d.d_un.d_val; break;
            case DT_RELA: rela = d.d_un.d_ptr; break;
            case DT_RELASZ: relasz = d.d_un.d_val; break;
            case DT_REL: rel = d.d_un.d_ptr; break;
            case DT_RELSZ: relsz = d.d_un.d_val; break;
            case DT_JMPREL: jmprel = d.d_un.d_ptr; break;
            case DT_PLTRELSZ: pltrelsz = d.d_un.d_val; break;
            case DT_PLTREL: pltrel = d.d_un.d_val; break;
            default: break;
            }
        }
        long long stroff = strtab ? va_to_off(b, eh, len, strtab, strsz) : -1;
        const char *strs = stroff >= 0 ? (const char *)b + stroff : NULL;
        for (size_t k = 0; k < n; k++) {
            Elf64_Dyn d;
            memcpy(&d, b + ph.p_offset + k * sizeof d, sizeof d);
            if (d.d_tag == DT_NULL)
                break;
            if (check_dyn_tag(&d, strs, strs ? strsz : 0, why, whylen))
                return FMSP_ERR_REFUSED;
        }
        struct { uint64_t va, size; int rela; } tables[3] = {
            {rela, relasz, 1}, {rel, relsz, 0}, {jmprel, pltrelsz, pltrel == DT_RELA}};
        for (int t = 0; t < 3; t++) {
            if (!tables[t].va || !tables[t].size)
                continue;
            long long off = va_to_off(b, eh, len, tables[t].va, tables[t].size);
            if (off < 0) {
                fmsp_errf(why, whylen, "compiled object has a relocation table outside its segments");
                return FMSP_ERR_REFUSED;
            }
            if (check_relocs(b, len, (size_t)off, tables[t].size, tables[t].rela, why, whylen))
                return FMSP_ERR_REFUSED;
        }
    }
    return FMSP_OK;
}

static void *libc_handles[2];

static void libc_open(void)
{
    /* never closed: the same libraries every worker has mapped */
    libc_handles[0] = dlopen("libc.so.6", RTLD_NOW | RTLD_LOCAL);
    libc_handles[1] = dlopen("libm.so.6", RTLD_NOW | RTLD_LOCAL);
}

/* 1 when libc or libm defines name. */
static int libc_defines(const char *name)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, libc_open);
    for (int i = 0; i < 2; i++)
        if (libc_handles[i] && dlsym(libc_handles[i], name))
            return 1;
    return 0;
}

static FmspErr check_policy(const void *image, size_t len, int linked, char *why, size_t whylen);

FmspErr elfcheck_policy(const void *image, size_t len, char *why, size_t whylen)
{
    return check_policy(image, len, 0, why, whylen);
}

FmspErr elfcheck_policy_linked(const void *image, size_t len, char *why, size_t whylen)
{
    return check_policy(image, len, 1, why, whylen);
}

static FmspErr check_policy(const void *image, size_t len, int linked, char *why, size_t whylen)
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
    int found[sizeof required / sizeof required[0]] = {0};
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
                if (d.d_tag != DT_NEEDED && check_dyn_tag(&d, NULL, 0, why, whylen)) {
                    e = FMSP_ERR_REFUSED;
                    break;
                }
            }
            continue;
        }
        if (sh[i].sh_type == SHT_RELA || sh[i].sh_type == SHT_REL) {
            e = check_relocs(b, len, sh[i].sh_offset, sh[i].sh_size, sh[i].sh_type == SHT_RELA, why,
                             whylen);
            continue;
        }
        if (sh[i].sh_type == SHT_SYMTAB && sh[i].sh_entsize == sizeof(Elf64_Sym) &&
            in_bounds(sh[i].sh_offset, sh[i].sh_size, len)) {
            size_t n = sh[i].sh_size / sizeof(Elf64_Sym);
            for (size_t k = 1; k < n && !e; k++) {
                Elf64_Sym sym;
                memcpy(&sym, b + sh[i].sh_offset + k * sizeof sym, sizeof sym);
                if (ELF64_ST_TYPE(sym.st_info) == STT_GNU_IFUNC) {
                    fmsp_errf(why, whylen, "the policy defines an indirect function: its resolver "
                                           "would run at load time");
                    e = FMSP_ERR_REFUSED;
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
                    if (!e && linked && sname[0] && ELF64_ST_BIND(sym.st_info) != STB_WEAK &&
                        !libc_defines(sname)) {
                        fmsp_errf(why, whylen,
                                  "the policy uses '%.80s', which it does not define and neither "
                                  "libc nor libm provides (an undefined symbol)",
                                  sname);
                        e = FMSP_ERR_REFUSED;
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
    if (!e)
        e = check_segments(b, len, &eh, why, whylen);
    for (int r = 0; r < N_COMMON && !e; r++) {
        if (!found[r]) {
            fmsp_errf(why, whylen, "policy does not define %s%s", required[r],
                      r == 2 ? " (declare FMSP_SIDE(...) at file scope)" : "");
            e = FMSP_ERR_REFUSED;
        }
    }
    /* the most complete set names what is missing (Car Tag's by default) */
    int best = 0, best_have = -1;
    for (int k = 0; k < 3 && !e; k++) {
        int have = 0;
        for (int i = 0; i < entry_sets[k].count; i++)
            have += found[entry_sets[k].first + i];
        if (have == entry_sets[k].count) {
            best = -1;
            break;
        }
        if (have > best_have) {
            best_have = have;
            best = k;
        }
    }
    for (int i = 0; best >= 0 && !e && i < entry_sets[best].count; i++) {
        if (!found[entry_sets[best].first + i]) {
            fmsp_errf(why, whylen, "policy does not define %s",
                      required[entry_sets[best].first + i]);
            e = FMSP_ERR_REFUSED;
        }
    }
    free(sh);
    return e;
}

size_t elfcheck_image_bytes(const void *image, size_t len)
{
    const unsigned char *b = image;
    Elf64_Ehdr eh;
    if (len < sizeof eh || memcmp(b, ELFMAG, SELFMAG) != 0)
        return 0;
    memcpy(&eh, b, sizeof eh);
    if (eh.e_phentsize != sizeof(Elf64_Phdr) ||
        !in_bounds(eh.e_phoff, (size_t)eh.e_phnum * sizeof(Elf64_Phdr), len))
        return 0;
    size_t total = 0;
    for (int i = 0; i < eh.e_phnum; i++) {
        Elf64_Phdr ph;
        memcpy(&ph, b + eh.e_phoff + (size_t)i * sizeof ph, sizeof ph);
        if (ph.p_type == PT_LOAD)
            total += ph.p_memsz > SIZE_MAX - total ? SIZE_MAX - total : (size_t)ph.p_memsz;
    }
    return total;
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
