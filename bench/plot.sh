#!/bin/sh
# plot.sh: regenerates the two benchmark figures under docs/ with gnuplot:
#
#   docs/wake_scaling.svg   cost per wake-up of a loop against the number of
#                           waits pending on it: uvev (one waker per loop) and
#                           one uv_async_t per waiter; the round trip from a
#                           driver thread, and the loop thread's CPU time
#   docs/chan_capacity.svg  channel throughput, 1 producer thread -> 1 loop,
#                           against capacity: uvev_chan with single calls and
#                           with batches, and the hand-written mutex ring +
#                           uv_async_send
#
#   bench/plot.sh [BUILD_DIR | path/to/uvev-bench] [uvev-bench options]
#   ninja -C build plot                   (the same, on that build's bench)
#
# BUILD_DIR defaults to build/; options such as --reps 7 are passed on
# (--short makes a quick, meaningless plot: a check that the script works).
#
# Each point is a median of interleaved repetitions (uvev-bench --series); the
# raw numbers are kept next to the figures as docs/*.dat. Needs gnuplot
# (Debian: gnuplot-nox). Takes about two minutes.
set -eu

root=$(cd "$(dirname "$0")/.." && pwd)
arg=${1:-$root/build}
[ $# -gt 0 ] && shift
if [ -d "$arg" ]; then
  bench=$arg/bench/uvev-bench
else
  bench=$arg
fi
if [ ! -x "$bench" ]; then
  echo "plot.sh: no uvev-bench at $bench (build first)" >&2
  exit 1
fi
if ! command -v gnuplot >/dev/null; then
  echo "plot.sh: gnuplot not found (Debian: gnuplot-nox)" >&2
  exit 1
fi

docs=$root/docs
mkdir -p "$docs"
"$bench" "$@" --series wake_scaling > "$docs/wake_scaling.dat"
"$bench" "$@" --series chan_capacity > "$docs/chan_capacity.dat"

# The machine line the bench wrote first, and how much of the machine other
# processes took while it ran (its last line), as each figure's subtitle.
subtitle() {
  m=$(sed -n '1s/^# uvev-bench: //p' "$1")
  o=$(sed -n 's/^# others: //p' "$1")
  printf '%s; others took %s' "$m" "$o" | sed 's/"/\\"/g'
}
wake_sub=$(subtitle "$docs/wake_scaling.dat")
chan_sub=$(subtitle "$docs/chan_capacity.dat")

gnuplot <<GP
set terminal svg size 760,480 dynamic enhanced font "sans,12" \\
    background "white"
set grid
set key top left box opaque
set style line 1 lc rgb "#1f6fb4" lw 2 pt 7 ps 0.8
set style line 2 lc rgb "#d9480f" lw 2 pt 5 ps 0.8
set bmargin 5

set output "$docs/wake_scaling.svg"
set title "Cost per wake-up of one loop, by waits pending on it" noenhanced
set label 1 "$wake_sub" at screen 0.99, screen 0.025 right font ",8" noenhanced
set xlabel "waits pending on the loop"
set ylabel "microseconds per wake-up (median)"
set logscale xy
set xrange [0.7:15000]
set style line 3 lc rgb "#1f6fb4" lw 1.5 dt 2 pt 7 ps 0.6
set style line 4 lc rgb "#d9480f" lw 1.5 dt 2 pt 5 ps 0.6
plot "$docs/wake_scaling.dat" using 1:2 with linespoints ls 1 \\
       title "uvev, one waker per loop: round trip" noenhanced, \\
     "" using 1:3 with linespoints ls 2 \\
       title "one uv_async_t per waiter: round trip" noenhanced, \\
     "" using 1:4 with linespoints ls 3 \\
       title "uvev: the loop thread's CPU time" noenhanced, \\
     "" using 1:5 with linespoints ls 4 \\
       title "one uv_async_t per waiter: the loop thread's CPU time" \\
       noenhanced

set output "$docs/chan_capacity.svg"
set title "Channel throughput, 1 producer thread -> 1 loop, u64 messages" \\
    noenhanced
set label 1 "$chan_sub" at screen 0.99, screen 0.025 right font ",8" noenhanced
set xlabel "channel capacity (messages)"
set ylabel "million messages per second (median)"
set logscale x 2
set logscale y
set xrange [0.7:6000]
set key top left
plot "$docs/chan_capacity.dat" using 1:2 with linespoints ls 1 \\
       title "uvev_chan: blocking send, async recv + try_recv" noenhanced, \\
     "" using 1:3 with linespoints ls 2 \\
       title "mutex ring + condvar + uv_async_send per message" noenhanced, \\
     "" using 1:4 with linespoints ls 3 \\
       title "uvev_chan: send_many_sync -> recv_many, batches of up to 64" \\
       noenhanced
GP
echo "plot.sh: wrote $docs/wake_scaling.svg and $docs/chan_capacity.svg"
