"""A tuning campaign on PostgreSQL with two workers, one killed with SIGKILL
mid-job: starts its own server on loopback (initdb in a temporary folder; as
the `postgres` user when run as root), enqueues one job per kernel, runs
the workers, and prints what the job table says. Stops the server.

    postgres_campaign.py TXL_TUNE WORKDIR MODEL [model flags...]
"""
import glob
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def as_server_user(cmd):
    return ["runuser", "-u", "postgres", "--"] + cmd if os.getuid() == 0 else cmd


def psql(bindir, port, user, sql):
    out = subprocess.run([os.path.join(bindir, "psql"), "-h", "127.0.0.1", "-p", str(port),
                          "-U", user, "-d", "postgres", "-At", "-c", sql],
                         check=True, capture_output=True, text=True)
    return out.stdout.strip()


def main():
    tune, work, model = sys.argv[1], sys.argv[2], sys.argv[3]
    flags = sys.argv[4:]
    bins = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if not bins:
        sys.exit("postgres_campaign: no initdb (scripts/setup.sh installs postgresql)")
    bindir = os.path.dirname(bins[-1])
    # The server's files in a folder of its own under /tmp (the server user
    # may not be able to reach the build tree).
    # (lit's TMPDIR is private to the user running it: use /tmp itself.)
    data = tempfile.mkdtemp(prefix="txl-tune-pg-", dir="/tmp")
    user = "postgres" if os.getuid() == 0 else os.environ.get("USER", "txl")
    if os.getuid() == 0:
        shutil.chown(data, "postgres")
    init = subprocess.run(as_server_user([os.path.join(bindir, "initdb"), "-D", data, "-U", user,
                                          "--auth=trust", "--no-sync"]),
                          capture_output=True, text=True)
    if init.returncode != 0:
        sys.exit("postgres_campaign: initdb failed: " + init.stderr)
    port = free_port()
    server = subprocess.Popen(
        as_server_user([os.path.join(bindir, "postgres"), "-D", data, "-p", str(port),
                        "-k", data, "-c", "listen_addresses=127.0.0.1", "-c", "fsync=off"]),
        stdout=subprocess.DEVNULL, stderr=open(os.path.join(work, "server.log"), "w"),
        start_new_session=True)
    try:
        for _ in range(200):
            if subprocess.run([os.path.join(bindir, "pg_isready"), "-h", "127.0.0.1", "-p",
                               str(port)], stdout=subprocess.DEVNULL).returncode == 0:
                break
            time.sleep(0.1)
        url = f"postgresql://{user}@127.0.0.1:{port}/postgres"
        out = subprocess.run([tune, "enqueue", model, "--db", url, "--budget", "40s",
                              "--campaign", "c1"] + flags,
                             capture_output=True, text=True)
        print(out.stdout.strip())
        if out.returncode != 0:
            sys.exit("enqueue failed: " + out.stderr)
        jobs = int(psql(bindir, port, user, "SELECT count(*) FROM job"))
        logs = {}
        workers = {}
        for name in ("A", "B"):
            logs[name] = open(os.path.join(work, f"worker-{name}.log"), "w")
            workers[name] = subprocess.Popen(
                [tune, "worker", "--db", url, "--lease", "4", "--wait", "12", "--name", name],
                stdout=logs[name], stderr=subprocess.STDOUT, start_new_session=True)
        # Kill A (and the tuner it started) once it holds a job for which
        # it has stored a record: a job half done.
        deadline = time.time() + 120
        while time.time() < deadline:
            running = psql(bindir, port, user,
                           "SELECT count(*) FROM job j WHERE worker = 'A' AND "
                           "state = 'running' AND EXISTS (SELECT 1 FROM record r "
                           "WHERE r.workload = j.workload)")
            if running == "1":
                break
            time.sleep(0.1)
        os.killpg(workers["A"].pid, signal.SIGKILL)
        workers["A"].wait()
        workers["B"].wait(timeout=300)
        print("jobs:", jobs)
        print("states:", psql(bindir, port, user,
                              "SELECT string_agg(DISTINCT state, ',') FROM job"))
        print("completed once each:", psql(bindir, port, user,
                                           "SELECT bool_and(completions = 1) FROM job"))
        print("killed job claimed again:", psql(bindir, port, user,
                                                "SELECT count(*) FROM job WHERE attempts = 2"))
        print("finished by B:", psql(bindir, port, user,
                                     "SELECT count(*) > 0 FROM job WHERE worker = 'B'"))
        # Every job's tuner ran (a record, ok or not: a loaded machine may
        # make a kernel's only measurement `noisy`).
        print("workloads with a record:", psql(
            bindir, port, user,
            "SELECT count(DISTINCT j.workload) = (SELECT count(*) FROM job) FROM job j "
            "JOIN record r ON r.workload = j.workload"))
        print("sessions:", psql(bindir, port, user, "SELECT count(*) > 0 FROM session"))
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=60)
        shutil.rmtree(data, ignore_errors=True)


main()
