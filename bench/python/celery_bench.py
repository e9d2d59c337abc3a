"""Celery clients of the comparison benchmark, driven by the Node harness (bench/src/compare):

    python3 celery_bench.py <enqueue|roundtrip|latency> '<RoleParams JSON>'
    python3 celery_bench.py versions '{}'

A client connects, says `ready` (a `@@bench {...}` line on stdout), waits for `go` on stdin, does its part,
prints its `result`, then waits for `stop` (or the end of stdin) before closing. `versions` prints the
versions of Celery and what it runs on as one JSON line.

Sends use `apply_async` with publisher confirms (celery_bench_app sets `confirm_publish`), so each one
returns once RabbitMQ has the message. Python has no cheap way to keep hundreds of confirms in flight: the
enqueue role sends from a few threads (`threads`), each with its own pooled connection.
"""

import collections
import json
import os
import platform
import sys
import threading
import time


def emit(event):
    os.write(1, ("@@bench " + json.dumps(event) + "\n").encode())


def versions():
    import amqp
    import billiard
    import celery
    import kombu

    print(
        json.dumps(
            {
                "celery": celery.__version__,
                "kombu": kombu.__version__,
                "amqp": amqp.__version__,
                "billiard": billiard.__version__,
                "python": platform.python_version(),
            }
        )
    )


def wait_for(command_name):
    """The next command from the harness; `stop` when stdin ends."""
    for line in sys.stdin:
        try:
            command = json.loads(line)
        except ValueError:
            continue
        if command.get("cmd") in (command_name, "stop"):
            return command["cmd"]
    return "stop"


def check_deadline(params, what):
    if time.time() * 1000.0 > params["deadline"]:
        raise RuntimeError("time limit reached while " + what)


def enqueue(app, add, params):
    n, offset = params["n"], params["offset"]
    threads = max(1, min(params["threads"], params["inFlight"], n))
    counter = iter(range(n))
    counter_lock = threading.Lock()
    reply_queues = set()
    errors = []

    def lane():
        reply_queues.add(app.thread_oid)  # this thread's reply queue (declared by its first send)
        try:
            while not errors:
                with counter_lock:
                    i = next(counter, None)
                if i is None:
                    return
                check_deadline(params, "sending")
                add.apply_async((offset + i, 1))
        except Exception as error:  # noqa: BLE001 - reported to the harness
            errors.append(error)

    workers = [threading.Thread(target=lane) for _ in range(threads)]
    first_send_at = time.time() * 1000.0
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    last_confirm_at = time.time() * 1000.0
    if errors:
        raise errors[0]
    return {
        "kind": "sent",
        "n": n,
        "firstSendAt": first_send_at,
        "lastConfirmAt": last_confirm_at,
        "replyQueues": sorted(reply_queues),
    }


def timeout_s(params):
    return max(1.0, params["deadline"] / 1000.0 - time.time())


def roundtrip(app, add, params):
    """`inFlight` results awaited at once: a sliding window, the oldest one awaited first."""
    n, offset, window = params["n"], params["offset"], max(1, params["inFlight"])
    pending = collections.deque()

    def settle():
        i, result = pending.popleft()
        value = result.get(timeout=timeout_s(params))
        if value != i + 1:
            raise RuntimeError("add(%d, 1) returned %r" % (i, value))

    started_at = time.time() * 1000.0
    for k in range(n):
        check_deadline(params, "round trips")
        if len(pending) >= window:
            settle()
        pending.append((offset + k, add.apply_async((offset + k, 1))))
    while pending:
        settle()
    ended_at = time.time() * 1000.0
    return {"kind": "roundtrips", "n": n, "startedAt": started_at, "endedAt": ended_at, "replyQueues": [app.thread_oid]}


def latency(app, add, params):
    samples = []
    for i in range(params["n"]):
        check_deadline(params, "timing round trips")
        start = time.perf_counter()
        value = add.apply_async((i, 1)).get(timeout=timeout_s(params))
        samples.append((time.perf_counter() - start) * 1000.0)
        if value != i + 1:
            raise RuntimeError("add(%d, 1) returned %r" % (i, value))
    return {"kind": "latency", "samplesMs": samples, "replyQueues": [app.thread_oid]}


ROLES = {"enqueue": enqueue, "roundtrip": roundtrip, "latency": latency}


def main():
    if len(sys.argv) != 3 or sys.argv[1] not in list(ROLES) + ["versions"]:
        sys.stderr.write("usage: celery_bench.py <enqueue|roundtrip|latency|versions> '<params JSON>'\n")
        return 2
    role = sys.argv[1]
    if role == "versions":
        versions()
        return 0
    params = json.loads(sys.argv[2])
    os.environ["BENCH_BROKER"] = params["broker"]
    os.environ["BENCH_QUEUE"] = params["queue"]
    from celery_bench_app import add, app

    try:
        with app.connection_for_write() as connection:
            connection.ensure_connection(max_retries=3)
        emit({"event": "ready"})
        if wait_for("go") != "go":
            return 0
        result = ROLES[role](app, add, params)
        emit({"event": "result", "result": result})
        wait_for("stop")
        return 0
    except Exception as error:  # noqa: BLE001 - reported to the harness
        emit({"event": "error", "message": "%s: %s" % (type(error).__name__, error)})
        return 1
    finally:
        app.close()


if __name__ == "__main__":
    sys.exit(main())
