/*
 * mock_llm_server.c - a real HTTP/1.1 server on loopback that speaks enough
 * of the OpenAI chat-completions and Anthropic messages wire formats to test
 * the clients: the "model" field of a request picks the behaviour.
 *
 *   usage: mock_llm_server [EXPECTED_KEY]
 * Prints the port it listens on (127.0.0.1, chosen by the kernel) on the
 * first line of stdout, then serves until killed; a thread per connection.
 * GET /stats answers {"requests": N, "auth_ok": N, "auth_bad": N}.
 *
 * Models (behaviours): ok, two-blocks, nocode, broken-code, truncated-json,
 * rate-limit-once (429 with Retry-After: 1, then ok), fail-once (500, then
 * ok), fail-always (500), stall (never answers), huge (a 20 MiB body),
 * delay-N (answers after N ms), refusal, error-400, echo-key (a 401 whose
 * body quotes the key), echo-key-ok (an answer quoting the key), hostile (a rotation of
 * policies that try to read the referee's environment, for the side the
 * prompt asks for), gandalf-target (a Gandalf target that leaks: it quotes its
 * system prompt back; a question without one, a guard's, gets "No." when it
 * asks for yes or no), gandalf-strict (the same, but every yes/no question
 * gets "Yes.").
 * With MOCK_LOG set, every request body is appended to that file, so tests
 * can check what the engine sent to the model.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdint.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

static const char *expected_key = "";
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static long requests, auth_ok, auth_bad, rate_limited_once, failed_once;

static const char code_answer[] =
    "Here is a policy.\\n\\n```c\\n#include \\\"fmsp_policy.h\\\"\\nFMSP_SIDE(FMSP_PURSUER);\\n"
    "void *fmsp_create(const FmspParams *p, FmspRng *r) { (void)p; (void)r; return 0; }\\n"
    "void fmsp_act(void *s, const FmspObs *o, FmspControl *c) { (void)s; (void)o; c->u = 1; }\\n"
    "void fmsp_free(void *s) { (void)s; }\\n```\\n";

/* Answers of the 'hostile' model: each tries to get the compiler, the loader or
 * the policy to read the referee's environment; pursuer and evader versions. */
static const char *const hostile_answers[] = {
    "```c\\n#include \\\"fmsp_policy.h\\\"\\nFMSP_SIDE(FMSP_PURSUER);\\n#line 1 \\\"/proc/self/environ\\\"\\nthis is a syntax error;\\nvoid *fmsp_create(const FmspParams *p, FmspRng *r) { (void)p; (void)r; return 0; }\\nvoid fmsp_act(void *s, const FmspObs *o, FmspControl *c) { (void)s; c->u = o->state.theta > 0 ? -1 : 1; }\\nvoid fmsp_free(void *s) { (void)s; }\\n```\\n",
    "```c\\n#include \\\"fmsp_policy.h\\\"\\nFMSP_SIDE(FMSP_EVADER);\\n#line 1 \\\"/proc/self/environ\\\"\\nthis is a syntax error;\\nvoid *fmsp_create(const FmspParams *p, FmspRng *r) { (void)p; (void)r; return 0; }\\nvoid fmsp_act(void *s, const FmspObs *o, FmspControl *c) { (void)s; c->vx = o->state.xe > o->state.xp ? 1 : -1; c->vy = 0; }\\nvoid fmsp_free(void *s) { (void)s; }\\n```\\n",
    "```c\\n#include \\\"fmsp_policy.h\\\"\\nFMSP_SIDE(FMSP_PURSUER);\\n#include \\\"/proc/1/environ\\\"\\nvoid *fmsp_create(const FmspParams *p, FmspRng *r) { (void)p; (void)r; return 0; }\\nvoid fmsp_act(void *s, const FmspObs *o, FmspControl *c) { (void)s; c->u = o->state.theta > 0 ? -1 : 1; }\\nvoid fmsp_free(void *s) { (void)s; }\\n```\\n",
    "```c\\n#include \\\"fmsp_policy.h\\\"\\nFMSP_SIDE(FMSP_EVADER);\\n#include \\\"/proc/1/environ\\\"\\nvoid *fmsp_create(const FmspParams *p, FmspRng *r) { (void)p; (void)r; return 0; }\\nvoid fmsp_act(void *s, const FmspObs *o, FmspControl *c) { (void)s; c->vx = o->state.xe > o->state.xp ? 1 : -1; c->vy = 0; }\\nvoid fmsp_free(void *s) { (void)s; }\\n```\\n",
    "```c\\n#include \\\"fmsp_policy.h\\\"\\nFMSP_SIDE(FMSP_PURSUER);\\n#inc\\\\ \\nlude \\\"/proc/self/environ\\\"\\nvoid *fmsp_create(const FmspParams *p, FmspRng *r) { (void)p; (void)r; return 0; }\\nvoid fmsp_act(void *s, const FmspObs *o, FmspControl *c) { (void)s; c->u = o->state.theta > 0 ? -1 : 1; }\\nvoid fmsp_free(void *s) { (void)s; }\\n```\\n",
    "```c\\n#include \\\"fmsp_policy.h\\\"\\nFMSP_SIDE(FMSP_EVADER);\\n#inc\\\\ \\nlude \\\"/proc/self/environ\\\"\\nvoid *fmsp_create(const FmspParams *p, FmspRng *r) { (void)p; (void)r; return 0; }\\nvoid fmsp_act(void *s, const FmspObs *o, FmspControl *c) { (void)s; c->vx = o->state.xe > o->state.xp ? 1 : -1; c->vy = 0; }\\nvoid fmsp_free(void *s) { (void)s; }\\n```\\n",
    "```c\\n#include \\\"fmsp_policy.h\\\"\\nFMSP_SIDE(FMSP_PURSUER);\\n__attribute__((constructor)) static void steal(void) { }\\nvoid *fmsp_create(const FmspParams *p, FmspRng *r) { (void)p; (void)r; return 0; }\\nvoid fmsp_act(void *s, const FmspObs *o, FmspControl *c) { (void)s; c->u = o->state.theta > 0 ? -1 : 1; }\\nvoid fmsp_free(void *s) { (void)s; }\\n```\\n",
    "```c\\n#include \\\"fmsp_policy.h\\\"\\nFMSP_SIDE(FMSP_EVADER);\\n__attribute__((constructor)) static void steal(void) { }\\nvoid *fmsp_create(const FmspParams *p, FmspRng *r) { (void)p; (void)r; return 0; }\\nvoid fmsp_act(void *s, const FmspObs *o, FmspControl *c) { (void)s; c->vx = o->state.xe > o->state.xp ? 1 : -1; c->vy = 0; }\\nvoid fmsp_free(void *s) { (void)s; }\\n```\\n",
    "```c\\n#include \\\"fmsp_policy.h\\\"\\nFMSP_SIDE(FMSP_PURSUER);\\nstatic const char *R_ = R\\\"x(\\n#include \\\"/proc/self/environ\\\"\\n)x\\\";\\nvoid *fmsp_create(const FmspParams *p, FmspRng *r) { (void)p; (void)r; return 0; }\\nvoid fmsp_act(void *s, const FmspObs *o, FmspControl *c) { (void)s; c->u = o->state.theta > 0 ? -1 : 1; }\\nvoid fmsp_free(void *s) { (void)s; }\\n```\\n",
    "```c\\n#include \\\"fmsp_policy.h\\\"\\nFMSP_SIDE(FMSP_EVADER);\\nstatic const char *R_ = R\\\"x(\\n#include \\\"/proc/self/environ\\\"\\n)x\\\";\\nvoid *fmsp_create(const FmspParams *p, FmspRng *r) { (void)p; (void)r; return 0; }\\nvoid fmsp_act(void *s, const FmspObs *o, FmspControl *c) { (void)s; c->vx = o->state.xe > o->state.xp ? 1 : -1; c->vy = 0; }\\nvoid fmsp_free(void *s) { (void)s; }\\n```\\n",
    "```c\\n#include \\\"fmsp_policy.h\\\"\\nFMSP_SIDE(FMSP_PURSUER);\\n#include <stdio.h>\\nextern char **environ;\\nstatic int dump(void) { return printf(\\\"%s\\\", environ && environ[0] ? environ[0] : \\\"none\\\"); }\\nstatic int k_ = 0;\\nvoid *fmsp_create(const FmspParams *p, FmspRng *r) { (void)p; (void)r; return 0; }\\nvoid fmsp_act(void *s, const FmspObs *o, FmspControl *c) { (void)s; c->u = o->state.theta > 0 ? -1 : 1; }\\nvoid fmsp_free(void *s) { (void)s; }\\n```\\n",
    "```c\\n#include \\\"fmsp_policy.h\\\"\\nFMSP_SIDE(FMSP_EVADER);\\n#include <stdio.h>\\nextern char **environ;\\nstatic int dump(void) { return printf(\\\"%s\\\", environ && environ[0] ? environ[0] : \\\"none\\\"); }\\nstatic int k_ = 0;\\nvoid *fmsp_create(const FmspParams *p, FmspRng *r) { (void)p; (void)r; return 0; }\\nvoid fmsp_act(void *s, const FmspObs *o, FmspControl *c) { (void)s; c->vx = o->state.xe > o->state.xp ? 1 : -1; c->vy = 0; }\\nvoid fmsp_free(void *s) { (void)s; }\\n```\\n",
    "```c\\n#include \\\"fmsp_policy.h\\\"\\nFMSP_SIDE(FMSP_PURSUER);\\n__asm__(\\\".incbin \\\\\\\"/proc/self/environ\\\\\\\"\\\");\\nvoid *fmsp_create(const FmspParams *p, FmspRng *r) { (void)p; (void)r; return 0; }\\nvoid fmsp_act(void *s, const FmspObs *o, FmspControl *c) { (void)s; c->u = o->state.theta > 0 ? -1 : 1; }\\nvoid fmsp_free(void *s) { (void)s; }\\n```\\n",
    "```c\\n#include \\\"fmsp_policy.h\\\"\\nFMSP_SIDE(FMSP_EVADER);\\n__asm__(\\\".incbin \\\\\\\"/proc/self/environ\\\\\\\"\\\");\\nvoid *fmsp_create(const FmspParams *p, FmspRng *r) { (void)p; (void)r; return 0; }\\nvoid fmsp_act(void *s, const FmspObs *o, FmspControl *c) { (void)s; c->vx = o->state.xe > o->state.xp ? 1 : -1; c->vy = 0; }\\nvoid fmsp_free(void *s) { (void)s; }\\n```\\n",
    "```c\\n#include \\\"fmsp_policy.h\\\"\\nFMSP_SIDE(FMSP_PURSUER);\\nvoid *fmsp_create(const FmspParams *p, FmspRng *r) { (void)p; (void)r; return 0; }\\nvoid fmsp_act(void *s, const FmspObs *o, FmspControl *c) { (void)s; c->u = o->state.theta > 0 ? -1 : 1; }\\nvoid fmsp_free(void *s) { (void)s; }\\n```\\n",
    "```c\\n#include \\\"fmsp_policy.h\\\"\\nFMSP_SIDE(FMSP_EVADER);\\nvoid *fmsp_create(const FmspParams *p, FmspRng *r) { (void)p; (void)r; return 0; }\\nvoid fmsp_act(void *s, const FmspObs *o, FmspControl *c) { (void)s; c->vx = o->state.xe > o->state.xp ? 1 : -1; c->vy = 0; }\\nvoid fmsp_free(void *s) { (void)s; }\\n```\\n",
};

static long hostile_count;

/* Copies the JSON string value after `key` (still escaped) into out. */
static int json_field(const char *body, const char *key, char *out, size_t cap)
{
    const char *p = strstr(body, key);
    if (!p)
        return 0;
    p += strlen(key);
    size_t n = 0;
    while (*p && *p != '"' && n + 2 < cap) {
        if (*p == '\\' && p[1])
            out[n++] = *p++;
        out[n++] = *p++;
    }
    out[n] = 0;
    return 1;
}

static void send_all(int fd, const char *buf, size_t len)
{
    while (len) {
        ssize_t w = write(fd, buf, len);
        if (w <= 0)
            return;
        buf += w;
        len -= (size_t)w;
    }
}

static void reply(int fd, int status, const char *extra_headers, const char *body, size_t len)
{
    char head[512];
    int n = snprintf(head, sizeof head,
                     "HTTP/1.1 %d %s\r\nContent-Type: application/json\r\nContent-Length: %zu\r\n"
                     "Connection: close\r\n%s\r\n",
                     status, status == 200 ? "OK" : "Error", len, extra_headers ? extra_headers : "");
    send_all(fd, head, (size_t)n);
    send_all(fd, body, len);
}

static void reply_text(int fd, int anthropic, const char *text)
{
    char body[8192];
    int n;
    if (anthropic)
        n = snprintf(body, sizeof body,
                     "{\"id\":\"msg_1\",\"type\":\"message\",\"content\":[{\"type\":\"text\",\"text\":\"%s\"}],"
                     "\"usage\":{\"input_tokens\":11,\"output_tokens\":22}}",
                     text);
    else
        n = snprintf(body, sizeof body,
                     "{\"id\":\"c1\",\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\",\"content\":\"%s\"}}],"
                     "\"usage\":{\"prompt_tokens\":11,\"completion_tokens\":22}}",
                     text);
    reply(fd, 200, NULL, body, (size_t)n);
}

static void *serve(void *arg)
{
    int fd = (int)(intptr_t)arg;
    char buf[1 << 16];
    size_t len = 0;
    char *body = NULL;
    long clen = 0;
    while (len < sizeof buf - 1) {
        ssize_t r = read(fd, buf + len, sizeof buf - 1 - len);
        if (r <= 0)
            break;
        len += (size_t)r;
        buf[len] = 0;
        char *end = strstr(buf, "\r\n\r\n");
        if (end) {
            char *cl = strcasestr(buf, "Content-Length:");
            clen = cl ? strtol(cl + 15, NULL, 10) : 0;
            body = end + 4;
            if ((long)(len - (size_t)(body - buf)) >= clen)
                break;
        }
    }
    if (!body) {
        close(fd);
        return NULL;
    }
    if (strncmp(buf, "GET /stats", 10) == 0) {
        char s[256];
        pthread_mutex_lock(&lock);
        int n = snprintf(s, sizeof s, "{\"requests\":%ld,\"auth_ok\":%ld,\"auth_bad\":%ld}", requests,
                         auth_ok, auth_bad);
        pthread_mutex_unlock(&lock);
        reply(fd, 200, NULL, s, (size_t)n);
        close(fd);
        return NULL;
    }
    if (strncmp(buf, "POST /v1/embeddings", 19) == 0) {
        /* a deterministic 8-dimensional vector from the input text */
        pthread_mutex_lock(&lock);
        requests++;
        if (strcasestr(buf, expected_key) && expected_key[0])
            auth_ok++;
        else
            auth_bad++;
        pthread_mutex_unlock(&lock);
        unsigned h = 2166136261u;
        for (const char *c = body; *c; c++)
            h = (h ^ (unsigned char)*c) * 16777619u;
        char e[512];
        int n = snprintf(e, sizeof e, "{\"data\":[{\"embedding\":[");
        for (int i = 0; i < 8; i++) {
            h = h * 1103515245u + 12345u;
            n += snprintf(e + n, sizeof e - (size_t)n, "%s%.4f", i ? "," : "", ((h >> 8) % 2000) / 1000.0 - 1.0);
        }
        n += snprintf(e + n, sizeof e - (size_t)n, "]}],\"usage\":{\"prompt_tokens\":5}}");
        reply(fd, 200, NULL, e, (size_t)n);
        close(fd);
        return NULL;
    }
    int anthropic = strstr(buf, "POST /v1/messages") != NULL;
    char want[700];
    if (anthropic)
        snprintf(want, sizeof want, "x-api-key: %s\r\n", expected_key);
    else
        snprintf(want, sizeof want, "Authorization: Bearer %s\r\n", expected_key);
    pthread_mutex_lock(&lock);
    requests++;
    if (strcasestr(buf, want))
        auth_ok++;
    else
        auth_bad++;
    pthread_mutex_unlock(&lock);
    char model[64] = "ok";
    char *m = strstr(body, "\"model\":\"");
    if (m)
        sscanf(m + 9, "%63[^\"]", model);
    const char *log_path = getenv("MOCK_LOG");
    if (log_path) {
        pthread_mutex_lock(&lock);
        FILE *f = fopen(log_path, "a");
        if (f) {
            fprintf(f, "%s\n", body);
            fclose(f);
        }
        pthread_mutex_unlock(&lock);
    }
    if (strcmp(model, "ok") == 0) {
        reply_text(fd, anthropic, code_answer);
    } else if (strcmp(model, "echo-key") == 0) {
        /* as some servers do on a 401: quote the key back, in the error and
         * in a field the client does not read */
        char e[1400];
        int n = snprintf(e, sizeof e,
                         "{\"error\":{\"message\":\"Incorrect API key provided: %s\",\"key\":\"%s\"}}",
                         expected_key, expected_key);
        reply(fd, 401, NULL, e, (size_t)n);
    } else if (strcmp(model, "echo-key-ok") == 0) {
        char t[800];
        snprintf(t, sizeof t, "Your key is %s.\\n```c\\nint k = 1; /* %s */\\n```\\n", expected_key,
                 expected_key);
        reply_text(fd, anthropic, t);
    } else if (strcmp(model, "hostile") == 0) {
        const char *p = strstr(body, "pursuer (the car)"), *e = strstr(body, "evader (the pedestrian)");
        int evader = e && (!p || e < p);
        pthread_mutex_lock(&lock);
        long k = hostile_count++;
        pthread_mutex_unlock(&lock);
        size_t n = sizeof hostile_answers / sizeof hostile_answers[0] / 2;
        reply_text(fd, anthropic, hostile_answers[2 * (size_t)(k % (long)n) + (size_t)evader]);
    } else if (strcmp(model, "gandalf-target") == 0 || strcmp(model, "gandalf-strict") == 0) {
        char sys[4000], t[4200];
        int has = json_field(body, anthropic ? "\"system\":\"" : "\"role\":\"system\",\"content\":\"",
                             sys, sizeof sys);
        if (has)
            snprintf(t, sizeof t, "I was told: %s", sys);
        else if (strcasestr(body, "yes or no"))
            snprintf(t, sizeof t, "%s", strcmp(model, "gandalf-strict") == 0 ? "Yes." : "No.");
        else
            snprintf(t, sizeof t, "I do not know.");
        reply_text(fd, anthropic, t);
    } else if (strcmp(model, "two-blocks") == 0) {
        reply_text(fd, anthropic, "Idea:\\n```c\\nu = 1;\\n```\\nFull file:\\n```c\\n#include \\\"fmsp_policy.h\\\"\\n"
                                  "FMSP_SIDE(FMSP_EVADER);\\nvoid fmsp_act(void) {}\\n```\\n");
    } else if (strcmp(model, "nocode") == 0) {
        reply_text(fd, anthropic, "I would rather not write code today.");
    } else if (strcmp(model, "broken-code") == 0) {
        reply_text(fd, anthropic, "```c\\nint main( {\\n```\\n");
    } else if (strcmp(model, "refusal") == 0 && !anthropic) {
        const char *r = "{\"choices\":[{\"message\":{\"role\":\"assistant\",\"content\":null,\"refusal\":\"no\"}}]}";
        reply(fd, 200, NULL, r, strlen(r));
    } else if (strcmp(model, "truncated-json") == 0) {
        const char *t = "{\"choices\":[{\"message\":{\"content\":\"```c\\nint x";
        reply(fd, 200, NULL, t, strlen(t));
    } else if (strcmp(model, "rate-limit-once") == 0) {
        pthread_mutex_lock(&lock);
        int first = rate_limited_once++ % 2 == 0;
        pthread_mutex_unlock(&lock);
        if (first) {
            const char *e = "{\"error\":{\"message\":\"slow down\"}}";
            reply(fd, 429, "Retry-After: 1\r\n", e, strlen(e));
        } else {
            reply_text(fd, anthropic, code_answer);
        }
    } else if (strcmp(model, "fail-once") == 0) {
        pthread_mutex_lock(&lock);
        int first = failed_once++ % 2 == 0;
        pthread_mutex_unlock(&lock);
        if (first)
            reply(fd, 500, NULL, "{\"error\":\"boom\"}", 16);
        else
            reply_text(fd, anthropic, code_answer);
    } else if (strcmp(model, "fail-always") == 0) {
        const char *e = anthropic ? "{\"type\":\"error\",\"error\":{\"type\":\"overloaded_error\",\"message\":\"overloaded\"}}"
                                  : "{\"error\":{\"message\":\"internal\"}}";
        reply(fd, anthropic ? 529 : 500, NULL, e, strlen(e));
    } else if (strcmp(model, "error-400") == 0) {
        const char *e = "{\"error\":{\"message\":\"bad request: unknown model\"}}";
        reply(fd, 400, NULL, e, strlen(e));
    } else if (strcmp(model, "stall") == 0) {
        sleep(60);
    } else if (strcmp(model, "huge") == 0) {
        size_t n = (size_t)20 << 20;
        char *big = malloc(n);
        memset(big, 'x', n);
        reply(fd, 200, NULL, big, n);
        free(big);
    } else if (strncmp(model, "delay-", 6) == 0) {
        usleep((useconds_t)atoi(model + 6) * 1000);
        reply_text(fd, anthropic, code_answer);
    } else {
        reply(fd, 404, NULL, "{\"error\":\"unknown model\"}", 25);
    }
    close(fd);
    return NULL;
}

int main(int argc, char **argv)
{
    if (argc > 1)
        expected_key = argv[1];
    signal(SIGPIPE, SIG_IGN);
    int s = socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in a = {0};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(s, (struct sockaddr *)&a, sizeof a) != 0 || listen(s, 64) != 0) {
        perror("mock_llm_server");
        return 1;
    }
    socklen_t al = sizeof a;
    getsockname(s, (struct sockaddr *)&a, &al);
    printf("%d\n", ntohs(a.sin_port));
    fflush(stdout);
    for (;;) {
        int c = accept(s, NULL, NULL);
        if (c < 0)
            continue;
        pthread_t t;
        if (pthread_create(&t, NULL, serve, (void *)(intptr_t)c) == 0)
            pthread_detach(t);
        else
            close(c);
    }
}
