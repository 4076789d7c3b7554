"""Starts a txl-tune command, kills it with SIGKILL (the tuner and its
children, as a killed terminal would) once the database holds at least N
records, then checks the database: PRAGMA integrity_check, every record
complete. Prints the record count.

    kill_mid_run.py DB N -- txl-tune ARGS...
"""
import os
import signal
import sqlite3
import subprocess
import sys
import time


def count(db):
    try:
        con = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5)
        n = con.execute("SELECT count(*) FROM record").fetchone()[0]
        con.close()
        return n
    except sqlite3.Error:
        return 0


def main():
    db, wanted = sys.argv[1], int(sys.argv[2])
    command = sys.argv[sys.argv.index("--") + 1:]
    child = subprocess.Popen(command, start_new_session=True,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 120
    while count(db) < wanted:
        if child.poll() is not None:
            sys.exit(f"kill_mid_run: txl-tune ended before {wanted} records")
        if time.time() > deadline:
            os.killpg(child.pid, signal.SIGKILL)
            sys.exit(f"kill_mid_run: fewer than {wanted} records after 120 s")
        time.sleep(0.05)
    os.killpg(child.pid, signal.SIGKILL)
    child.wait()
    con = sqlite3.connect(db)
    check = con.execute("PRAGMA integrity_check").fetchall()
    print("integrity_check:", check[0][0])
    incomplete = con.execute(
        "SELECT count(*) FROM record WHERE schedule = '' OR status = ''").fetchone()[0]
    print("records:", con.execute("SELECT count(*) FROM record").fetchone()[0] >= wanted,
          "incomplete:", incomplete)


main()
