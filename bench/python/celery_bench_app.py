"""The Celery side of the comparison benchmark (bench/src/compare): the app, its one task, and the worker's
half of the harness protocol (bench/src/compare/protocol.ts).

The worker is Debian's Celery itself, started by the harness as

    python3 -m celery -A celery_bench_app worker -P prefork -c 2 -Q <queue> ...

with BENCH_BROKER, BENCH_QUEUE and BENCH_EXPECT in its environment. Runs happen in the pool's processes:
they count themselves in shared memory made here, at import, before the pool forks. The main process
reports each window of runs on stdout (`@@bench {...}` lines) and takes commands from stdin (`expect`,
`stop`; the end of stdin stops it too).
"""

import json
import multiprocessing
import os
import signal
import sys
import threading
import time

from celery import Celery, signals

BROKER = os.environ.get("BENCH_BROKER", "amqp://guest:guest@127.0.0.1:5672//")
QUEUE = os.environ.get("BENCH_QUEUE", "bench.compare")
TASK_NAME = "bench.add"
EVENT_PREFIX = "@@bench "

app = Celery("bench_compare", broker=BROKER, backend="rpc://")
app.conf.update(
    task_serializer="json",
    result_serializer="json",
    accept_content=["json"],
    # The queue and its direct exchange of the same name, as ours declares them.
    task_default_queue=QUEUE,
    task_default_exchange=QUEUE,
    task_default_routing_key=QUEUE,
    # Sends resolve on the broker's confirm, as ours and raw amqplib's do.
    broker_transport_options={"confirm_publish": True},
    # Reply queues left behind by a client are deleted by the harness; this is the backstop.
    result_expires=600,
    worker_redirect_stdouts=False,
    worker_hijack_root_logger=False,
)


def emit(event):
    """One protocol line, written whole (a single write below PIPE_BUF: threads never interleave)."""
    os.write(1, (EVENT_PREFIX + json.dumps(event) + "\n").encode())


def now_ms():
    return time.time() * 1000.0


# Shared by the pool's processes (made before the fork): the window of runs being counted.
_lock = multiprocessing.Lock()
_target = multiprocessing.RawValue("q", int(os.environ.get("BENCH_EXPECT", "0") or 0))
_done = multiprocessing.RawValue("q", 0)
_first_start = multiprocessing.RawValue("d", 0.0)
_last_done = multiprocessing.RawValue("d", 0.0)


@app.task(name=TASK_NAME)
def add(a, b):
    return a + b


@signals.task_prerun.connect
def _run_started(**_kwargs):
    if _target.value > 0 and _first_start.value == 0.0:
        with _lock:
            if _first_start.value == 0.0:
                _first_start.value = now_ms()


@signals.task_success.connect
def _run_finished(**_kwargs):
    """Sent once the result is stored (published to the client's reply queue), as ours counts a run."""
    if _target.value <= 0:
        return
    with _lock:
        _done.value += 1
        if _done.value == _target.value:
            _last_done.value = now_ms()


def _expect(n):
    with _lock:
        _done.value = 0
        _first_start.value = 0.0
        _last_done.value = 0.0
        _target.value = n


def _report_windows():
    """Main process: reports each finished window (polled: the runs happen in other processes)."""
    while True:
        time.sleep(0.005)
        with _lock:
            if _target.value <= 0 or _done.value < _target.value:
                continue
            window = {"n": _target.value, "firstStartAt": _first_start.value, "lastDoneAt": _last_done.value}
            _target.value = 0
        emit({"event": "window", "window": window})


def _read_commands():
    """Main process: `expect` and `stop` from the harness; the end of stdin (the harness is gone) stops too."""
    for line in sys.stdin:
        try:
            command = json.loads(line)
        except ValueError:
            continue
        if command.get("cmd") == "expect":
            _expect(int(command["n"]))
            emit({"event": "expecting", "n": int(command["n"])})
        elif command.get("cmd") == "stop":
            break
    os.kill(os.getpid(), signal.SIGTERM)  # Celery's warm shutdown


@signals.worker_ready.connect
def _ready(**_kwargs):
    for target in (_report_windows, _read_commands):
        threading.Thread(target=target, daemon=True).start()
    emit({"event": "ready"})
