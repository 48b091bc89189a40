// Small static programs for sandbox tests, compiled with the host's `gcc -static`
// (glibc's libc.a): a full sandbox has no /lib, so only a static binary runs in
// it. Compiled once per source into a shared temp folder named by the source's
// hash, readable by every user (the unprivileged tests run them as uid 65534).
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { access, chmod, mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** The static busybox the tests use as a shell inside the sandbox (Debian: busybox-static). */
export const BUSYBOX = '/usr/bin/busybox';

/** Path of a static executable compiled from C `source`; cached by the source's hash. */
export async function staticBin(name: string, source: string): Promise<string> {
  const hash = createHash('sha256').update(source).digest('hex').slice(0, 16);
  const dir = join(tmpdir(), 'intact-static-bin', `${name}-${hash}`);
  const exe = join(dir, name);
  if (await access(exe).then(() => true, () => false)) return exe;
  await mkdir(dir, { recursive: true, mode: 0o755 });
  await chmod(join(tmpdir(), 'intact-static-bin'), 0o755);
  await chmod(dir, 0o755);
  const tmp = `${exe}.${process.pid}.tmp`;
  await writeFile(`${tmp}.c`, source);
  try {
    await run('gcc', ['-static', '-O1', '-o', tmp, `${tmp}.c`]);
    await chmod(tmp, 0o755);
    await rename(tmp, exe);
  } finally {
    await rm(`${tmp}.c`, { force: true });
  }
  return exe;
}

/**
 * `inspect`: reports what a process sees, one `key=value` line per request, so one
 * sandboxed run answers many questions. Requests run in argument order:
 *   ids hostname cwd env caps procs ifaces segv true
 *   exists:PATH write:PATH read:PATH cat:PATH chroot:PATH connect:IP:PORT
 *   unshare-user exit:N sleep:MS beat:FILE beat-setsid:FILE tag:ANYTHING
 */
export const INSPECT_C = String.raw`
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

static const char *err(int e) {
  switch (e) {
    case EROFS: return "EROFS"; case EACCES: return "EACCES"; case EPERM: return "EPERM";
    case ENOENT: return "ENOENT"; case ENETUNREACH: return "ENETUNREACH"; case ECONNREFUSED: return "ECONNREFUSED";
    case EADDRNOTAVAIL: return "EADDRNOTAVAIL"; case ETIMEDOUT: return "ETIMEDOUT"; case EINVAL: return "EINVAL";
    default: { static char b[32]; snprintf(b, sizeof b, "E%d", e); return b; }
  }
}

static void msleep(long ms) { struct timespec t = { ms / 1000, (ms % 1000) * 1000000L }; nanosleep(&t, 0); }

static void beat(const char *file, int own_session) {
  pid_t p = fork();
  if (p != 0) return;
  if (own_session) setsid();
  int nul = open("/dev/null", O_RDWR);
  if (nul >= 0) { dup2(nul, 1); dup2(nul, 2); }
  for (;;) {
    int fd = open(file, O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (fd >= 0) { if (write(fd, "x", 1) < 0) {} close(fd); }
    msleep(20);
  }
}

int main(int argc, char **argv) {
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    if (!strcmp(a, "ids")) printf("uid=%d\ngid=%d\npid=%d\n", (int)getuid(), (int)getgid(), (int)getpid());
    else if (!strcmp(a, "hostname")) { struct utsname u; uname(&u); printf("hostname=%s\n", u.nodename); }
    else if (!strcmp(a, "cwd")) { char b[4096]; printf("cwd=%s\n", getcwd(b, sizeof b) ? b : "?"); }
    else if (!strcmp(a, "env")) { for (char **e = environ; *e; e++) printf("env=%s\n", *e); }
    else if (!strcmp(a, "caps")) {
      FILE *f = fopen("/proc/self/status", "r"); char l[256];
      while (f && fgets(l, sizeof l, f)) if (!strncmp(l, "CapEff:", 7)) { char *v = l + 7; while (*v == '\t' || *v == ' ') v++; printf("capeff=%s", v); }
      if (f) fclose(f);
    }
    else if (!strcmp(a, "procs")) {
      int n = 0; DIR *d = opendir("/proc"); struct dirent *e;
      while (d && (e = readdir(d))) if (e->d_name[0] >= '0' && e->d_name[0] <= '9') n++;
      if (d) closedir(d);
      printf("procs=%d\n", n);
    }
    else if (!strcmp(a, "ifaces")) {
      struct if_nameindex *ni = if_nameindex(), *p;
      int s = socket(AF_INET, SOCK_DGRAM, 0);
      for (p = ni; p && p->if_index; p++) {
        struct ifreq r; memset(&r, 0, sizeof r); strncpy(r.ifr_name, p->if_name, IFNAMSIZ - 1);
        int up = s >= 0 && ioctl(s, SIOCGIFFLAGS, &r) == 0 && (r.ifr_flags & IFF_UP);
        printf("iface:%s=%s\n", p->if_name, up ? "up" : "down");
      }
      if (ni) if_freenameindex(ni);
    }
    else if (!strncmp(a, "exists:", 7)) { struct stat st; printf("%s=%s\n", a, lstat(a + 7, &st) == 0 ? "yes" : "no"); }
    else if (!strncmp(a, "write:", 6)) {
      int fd = open(a + 6, O_WRONLY | O_CREAT | O_TRUNC, 0644);
      printf("%s=%s\n", a, fd >= 0 ? "ok" : err(errno)); if (fd >= 0) close(fd);
    }
    else if (!strncmp(a, "read:", 5)) {
      char b[16]; int fd = open(a + 5, O_RDONLY); ssize_t n = fd >= 0 ? read(fd, b, sizeof b) : -1;
      printf("%s=%s\n", a, n > 0 ? "ok" : n == 0 ? "empty" : err(errno)); if (fd >= 0) close(fd);
    }
    else if (!strncmp(a, "cat:", 4)) {
      FILE *f = fopen(a + 4, "r"); char l[512];
      if (!f) printf("%s=%s\n", a, err(errno));
      while (f && fgets(l, sizeof l, f)) printf("%s=%s", a, l);
      if (f) fclose(f);
    }
    else if (!strncmp(a, "chroot:", 7)) printf("%s=%s\n", a, chroot(a + 7) == 0 ? "ok" : err(errno));
    else if (!strcmp(a, "unshare-user")) printf("%s=%s\n", a, unshare(CLONE_NEWUSER) == 0 ? "ok" : err(errno));
    else if (!strncmp(a, "connect:", 8)) {
      char ip[64]; int port = 0; const char *c = strrchr(a + 8, ':');
      snprintf(ip, sizeof ip, "%.*s", (int)(c - (a + 8)), a + 8); port = atoi(c + 1);
      struct sockaddr_in sa; memset(&sa, 0, sizeof sa); sa.sin_family = AF_INET; sa.sin_port = htons(port);
      inet_pton(AF_INET, ip, &sa.sin_addr);
      int s = socket(AF_INET, SOCK_STREAM, 0);
      printf("%s=%s\n", a, connect(s, (struct sockaddr *)&sa, sizeof sa) == 0 ? "ok" : err(errno));
      close(s);
    }
    else if (!strncmp(a, "exit:", 5)) { fflush(stdout); _exit(atoi(a + 5)); }
    else if (!strncmp(a, "sleep:", 6)) { fflush(stdout); msleep(atol(a + 6)); }
    else if (!strncmp(a, "beat:", 5)) { fflush(stdout); beat(a + 5, 0); }
    else if (!strncmp(a, "beat-setsid:", 12)) { fflush(stdout); beat(a + 12, 1); }
    else if (!strcmp(a, "segv")) { fflush(stdout); volatile int *p = 0; *p = 1; }
    else if (!strcmp(a, "true") || !strncmp(a, "tag:", 4)) {}
    else { printf("unknown=%s\n", a); return 99; }
    fflush(stdout);
  }
  return 0;
}
`;

export function inspectBin(): Promise<string> {
  return staticBin('inspect', INSPECT_C);
}

/** Parse `key=value` lines; repeated keys keep every value in order. */
export function parseInspect(text: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const line of text.split('\n')) {
    const i = line.indexOf('=');
    if (i <= 0) continue;
    const k = line.slice(0, i);
    out.set(k, [...(out.get(k) ?? []), line.slice(i + 1)]);
  }
  return out;
}

// ---------------------------------------------------------------- did the tree die?

/** PIDs of live processes whose command line contains `token` (zombies have none). */
export async function alive(token: string, waitMs = 3000): Promise<number[]> {
  const { readdir, readFile } = await import('node:fs/promises');
  const deadline = Date.now() + waitMs;
  for (;;) {
    const pids: number[] = [];
    for (const name of await readdir('/proc')) {
      if (!/^\d+$/.test(name) || Number(name) === process.pid) continue;
      const cmd = await readFile(`/proc/${name}/cmdline`, 'utf8').catch(() => '');
      if (cmd.includes(token)) pids.push(Number(name));
    }
    if (pids.length === 0 || Date.now() > deadline) return pids;
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Whether a heartbeat file (written every 20 ms by `inspect beat:FILE`) still grows. */
export async function stillGrowing(file: string): Promise<boolean> {
  const { stat } = await import('node:fs/promises');
  const size = async () => (await stat(file).catch(() => undefined))?.size ?? -1;
  const a = await size();
  await new Promise((r) => setTimeout(r, 300));
  return (await size()) !== a;
}
