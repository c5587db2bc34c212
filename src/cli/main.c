/* main.c - the fmsp command line: dispatches to the subcommands. */
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>

#include "cli.h"

#define FMSP_VERSION "0.1.0"

static const char main_help[] =
    "fmsp " FMSP_VERSION " - Foundation-Model Self-Play\n"
    "\n"
    "usage: fmsp <command> [options]\n"
    "\n"
    "Commands:\n"
    "  run       run Foundation-Model Self-Play (QDSP, vFMSP, NSSP, open-loop) on\n"
    "            Car Tag or Gandalf (--domain)\n"
    "  show      summarise a run database\n"
    "  export    write a run's archive as policy files\n"
    "  eval      play every side-1 policy against every side-2 policy, a table\n"
    "  play      play one episode and write its trace as JSON lines\n"
    "  tournament  cross-play of archives and policy files: Elo, Nash averaging,\n"
    "            exploitability (resumable with --results)\n"
    "  compare   runs on a held-out pool: QD-score and coverage on a shared map,\n"
    "            best discovered vs best human-designed with a 95% interval\n"
    "  help      this help; 'fmsp <command> --help' for a command's options\n"
    "  version   print the version\n";

int main(int argc, char **argv)
{
    /* Keep other processes of this user (policy workers among them) from
     * reading our memory or environment through /proc or ptrace. */
    prctl(PR_SET_DUMPABLE, 0);
    /* Run databases, exports and traces hold prompts, code and results:
     * nothing fmsp writes is readable by other users. */
    umask(077);
    if (argc < 2) {
        fprintf(stderr, "%s", main_help);
        return 2;
    }
    const char *cmd = argv[1];
    if (strcmp(cmd, "help") == 0 || strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0) {
        printf("%s", main_help);
        return 0;
    }
    if (strcmp(cmd, "version") == 0 || strcmp(cmd, "--version") == 0) {
        printf("fmsp %s (policy API %d)\n", FMSP_VERSION, FMSP_POLICY_API_VERSION);
        return 0;
    }
    if (strcmp(cmd, "eval") == 0)
        return cmd_eval(argc - 1, argv + 1);
    if (strcmp(cmd, "play") == 0)
        return cmd_play(argc - 1, argv + 1);
    if (strcmp(cmd, "run") == 0)
        return cmd_run(argc - 1, argv + 1);
    if (strcmp(cmd, "show") == 0)
        return cmd_show(argc - 1, argv + 1);
    if (strcmp(cmd, "compare") == 0)
        return cmd_compare(argc - 1, argv + 1);
    if (strcmp(cmd, "tournament") == 0)
        return cmd_tournament(argc - 1, argv + 1);
    if (strcmp(cmd, "report") == 0)
        return cmd_report(argc - 1, argv + 1);
    if (strcmp(cmd, "export") == 0)
        return cmd_export(argc - 1, argv + 1);
    fprintf(stderr, "fmsp: unknown command '%s'; try 'fmsp help'\n", cmd);
    return 2;
}
