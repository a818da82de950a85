# Every signal at the tracer (the parent: strace), then a call the policy flags. Isolated,
# strace is PID 1 of the namespace: no signal from inside reaches it, and the call is seen.
import ctypes
import os
import signal
import time

for sig in range(1, 65):
    if sig in (signal.SIGCHLD, signal.SIGKILL):
        continue  # SIGKILL is the kill-tracer attack of its own
    try:
        os.kill(os.getppid(), sig)
    except OSError:
        pass
time.sleep(0.2)
ctypes.CDLL(None).personality(0xFFFFFFFF)
print("tracer still there", flush=True)
