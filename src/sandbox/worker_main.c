/* worker_main.c - placeholder until the sandbox worker lands. */
int main(void) { return 0; }
