#!/usr/bin/env python3
"""gen_corpus.py: writes the seed corpus of uvev-fuzz-api into corpus/.

Each seed is a short scripted scenario in the input layout that the comment
at the top of fuzz_api.c describes (the opcodes below follow its enum). Run
it again after changing that layout: python3 test/fuzz/gen_corpus.py
"""
import os

(WAIT, CANCEL, NOTIFY, TOKENS, RUN, ADVANCE, WAKER_CLOSE, WAKER_INIT,
 EVENT_CYCLE, CHAN_CYCLE, TRY_SEND, TRY_RECV, CHAN_OP, CHAN_CANCEL,
 CHAN_CLOSE, MISUSE) = range(16)

TAKE, FLAKY = 1, 2
T0, T1, T2, TMAX, NEVER = range(5)
RESTART, CLOSE, CANCEL_ACT, NOTIFY_ACT = 4, 5, 6, 7
N0, N1, N2, NALL = range(4)


def wait(req, slot, ev, pred=TAKE, tmo=NEVER, act=0, arg=0, notify_ev=None):
    if notify_ev is not None:
        pred |= (notify_ev + 1) << 2
    return [WAIT, req, slot | ev << 2, pred | tmo << 4, act | arg << 3]


def cancel(req):
    return [CANCEL, req]


def notify(ev, n):
    return [NOTIFY, ev | n << 2]


def tokens(ev, k):
    return [TOKENS, ev | (k - 1) << 2]


def run(loop=0, all_=True):
    return [RUN, loop | (2 if all_ else 0)]


def advance():
    return [ADVANCE]


def waker_close(slot):
    return [WAKER_CLOSE, slot]


def waker_init(slot):
    return [WAKER_INIT, slot]


def event_cycle(ev):
    return [EVENT_CYCLE, ev]


def chan_cycle(ch, drain=0, cap=0, size=0):
    return [CHAN_CYCLE, ch | drain << 1 | cap << 2 | size << 4]


def try_send(ch):
    return [TRY_SEND, ch]


def try_recv(ch):
    return [TRY_RECV, ch]


def chan_op(op, slot, ch, send, act=0, arg=0):
    return [CHAN_OP, op, slot | ch << 2 | send << 3, act | arg << 3]


def chan_cancel(op):
    return [CHAN_CANCEL, op]


def chan_close(ch):
    return [CHAN_CLOSE, ch]


def misuse(kind, which):
    return [MISUSE, kind, which]


SEEDS = {
    "wait-notify": wait(0, 0, 0) + wait(1, 2, 0) + tokens(0, 2) + notify(0, N1)
    + run() + notify(0, N2) + run(),
    "notify-n": wait(0, 0, 1, pred=0) + wait(1, 0, 1, pred=0) + notify(1, N0)
    + tokens(1, 1) + notify(1, N0) + run() + notify(1, NALL) + run(),
    "timeouts": wait(0, 0, 0, tmo=T0) + wait(1, 0, 0, tmo=T1)
    + wait(2, 2, 0, tmo=T2) + wait(3, 2, 1, tmo=TMAX) + run() + advance()
    + tokens(1, 1) + notify(1, NALL) + run(),
    "cancel": wait(0, 0, 0) + cancel(0) + cancel(0) + run() + cancel(0)
    + wait(1, 0, 0) + tokens(0, 1) + notify(0, N1) + cancel(1) + run(),
    "cancel-handoff": wait(0, 0, 0) + wait(1, 2, 0) + tokens(0, 1)
    + notify(0, N1) + cancel(0) + run(),
    "waker-close": wait(0, 0, 0) + wait(1, 0, 1, tmo=T2) + waker_close(0)
    + wait(2, 0, 0) + waker_close(0) + run() + waker_init(0)
    + waker_init(1) + wait(2, 1, 0) + tokens(0, 1) + notify(0, NALL) + run(),
    "event-destroy": event_cycle(0) + event_cycle(0) + wait(0, 0, 0)
    + event_cycle(0) + cancel(0) + run() + event_cycle(0) + event_cycle(0),
    "chan-try": try_send(0) + try_send(0) + try_send(0) + try_recv(0)
    + chan_close(0) + try_send(0) + try_recv(0) + try_recv(0) + try_recv(0)
    + chan_close(0) + chan_cycle(0, drain=1) + chan_cycle(0, cap=3, size=2)
    + try_send(0) + try_recv(0),
    "chan-ops": chan_op(0, 0, 1, 0) + try_send(1) + run()
    + try_send(1) + chan_op(1, 2, 1, 1) + try_recv(1) + run()
    + chan_op(2, 0, 0, 1) + chan_op(3, 2, 0, 0) + run(),
    "chan-close-cancel": chan_op(0, 0, 1, 0) + chan_op(1, 2, 1, 0)
    + chan_cancel(0) + chan_cycle(1) + chan_close(1) + run() + chan_cancel(1)
    + try_send(0) + try_send(0) + chan_op(2, 0, 0, 1) + chan_close(0) + run()
    + chan_cycle(0, drain=1),
    "chan-closing-waker": waker_close(2) + chan_op(0, 2, 0, 1)
    + chan_op(1, 2, 0, 0) + wait(0, 2, 0) + run(),
    "misuse": misuse(0, 0x00) + misuse(0, 0x09) + misuse(0, 0x92)
    + misuse(0, 0x1b) + misuse(0, 0xa4) + misuse(1, 0) + misuse(2, 3)
    + misuse(3, 1) + chan_cycle(1) + misuse(4, 1) + misuse(5, 0)
    + misuse(6, 0x00) + misuse(6, 0x88) + misuse(6, 0x12) + misuse(6, 0x9b)
    + misuse(6, 0x24),
    "callback-actions": wait(0, 0, 0, act=RESTART) + tokens(0, 2)
    + wait(1, 0, 1, act=NOTIFY_ACT, arg=2) + wait(2, 2, 2)
    + wait(3, 2, 2, act=CANCEL_ACT, arg=4) + wait(4, 2, 1, act=CLOSE)
    + tokens(1, 1) + tokens(2, 1) + notify(1, N1) + run(),
    "flaky-notify": tokens(0, 3) + wait(0, 0, 0, pred=TAKE | FLAKY, tmo=T1)
    + wait(1, 2, 1, pred=TAKE | FLAKY, notify_ev=1) + tokens(1, 2)
    + notify(1, N1) + run(0, False) + run(1, False) + run(),
    "two-loops-single-runs": wait(0, 0, 0) + wait(1, 2, 0) + wait(2, 2, 0)
    + tokens(0, 3) + notify(0, N2) + run(1, False) + cancel(2)
    + run(0, False) + notify(0, NALL) + run(1, False) + run(),
    "chan-restart": chan_op(0, 0, 0, 0, act=RESTART) + try_send(0)
    + try_send(0) + run() + chan_op(1, 2, 1, 1, act=RESTART)
    + chan_op(2, 2, 1, 1) + try_recv(1) + run() + try_recv(1) + run(),
    # A notified waiter that goes away hands its notification on: by a
    # cancel (channel), by its expiry, by its waker's close.
    "handoff-chan-cancel": chan_op(0, 0, 1, 0) + chan_op(1, 2, 1, 0)
    + try_send(1) + chan_cancel(0) + run(),
    "handoff-expire": wait(0, 0, 0, tmo=T1) + wait(1, 2, 0) + notify(0, N1)
    + advance(),
    "handoff-close": wait(0, 0, 0) + wait(1, 0, 0) + wait(2, 2, 0)
    + notify(0, N1) + waker_close(0) + run(),
}


def main():
    out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus")
    os.makedirs(out, exist_ok=True)
    for name, data in SEEDS.items():
        with open(os.path.join(out, name), "wb") as f:
            f.write(bytes(data))


if __name__ == "__main__":
    main()
