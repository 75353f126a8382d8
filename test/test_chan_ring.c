/* test_chan_ring.c: the channel's capacities (exact, 1 to 65536, odd ones), element
 * sizes, try calls on full, empty and closed channels.
 */
#include <string.h>

#include "helpers.h"

/* Exactly `cap` elements fit, come out in order, and the ring wraps. */
static void check_capacity(size_t cap) {
  uvev_chan_t ch;
  uint64_t v, next_in, next_out;
  size_t i;
  int lap;

  ck_assert_int_eq(uvev_chan_init(&ch, cap, sizeof(uint64_t)), 0);
  next_in = 0;
  next_out = 0;
  ck_assert_int_eq(uvev_chan_try_recv(&ch, &v), UV_EAGAIN);
  for (lap = 0; lap < 3; lap++) {
    /* Fill to exactly the capacity. */
    for (i = 0; i < cap; i++) {
      v = next_in++;
      ck_assert_int_eq(uvev_chan_try_send(&ch, &v), 0);
    }
    v = 999999;
    ck_assert_int_eq(uvev_chan_try_send(&ch, &v), UV_EAGAIN);
    /* Take half (at least one), top up, so positions wrap unevenly. */
    for (i = 0; i < cap / 2 + 1; i++) {
      ck_assert_int_eq(uvev_chan_try_recv(&ch, &v), 0);
      ck_assert_uint_eq(v, next_out++);
    }
    for (i = 0; i < cap / 2 + 1; i++) {
      v = next_in++;
      ck_assert_int_eq(uvev_chan_try_send(&ch, &v), 0);
    }
    ck_assert_int_eq(uvev_chan_try_send(&ch, &v), UV_EAGAIN);
    /* Drain. */
    for (i = 0; i < cap; i++) {
      ck_assert_int_eq(uvev_chan_try_recv(&ch, &v), 0);
      ck_assert_uint_eq(v, next_out++);
    }
    ck_assert_int_eq(uvev_chan_try_recv(&ch, &v), UV_EAGAIN);
  }
  ck_assert_int_eq(uvev_chan_destroy(&ch), 0);
}

START_TEST(test_chan_capacities) {
  static const size_t caps[] = {1, 2, 3, 7, 1000, 65536};
  size_t i;

  for (i = 0; i < sizeof(caps) / sizeof(caps[0]); i++)
    check_capacity(caps[i]);
}
END_TEST

/* Elements of every size are copied whole and no further: the sizes the
 * ring copies inline (4, 8, 16) and others, singly and in batches. The byte
 * after each element in `out` must stay as it was. */
START_TEST(test_chan_element_sizes) {
  static const size_t sizes[] = { 1, 3, 4, 8, 16, 37 };
  unsigned char in[3 * 37], out[3 * 37 + 1];
  uvev_chan_t ch;
  size_t i, z, esz;
  int k;

  for (z = 0; z < sizeof(sizes) / sizeof(sizes[0]); z++) {
    esz = sizes[z];
    ck_assert_int_eq(uvev_chan_init(&ch, 3, esz), 0);
    for (k = 0; k < 10; k++) {
      for (i = 0; i < 3 * esz; i++)
        in[i] = (unsigned char) (k * 31 + i + 1);
      memset(out, 0xee, sizeof(out));
      ck_assert_int_eq(uvev_chan_try_send(&ch, in), 0);
      ck_assert_int_eq(uvev_chan_try_recv(&ch, out), 0);
      ck_assert_mem_eq(in, out, esz);
      ck_assert_uint_eq(out[esz], 0xee);
      memset(out, 0xee, sizeof(out));
      ck_assert_int_eq(uvev_chan_try_send_many(&ch, in, 3), 3);
      ck_assert_int_eq(uvev_chan_try_recv_many(&ch, out, 3), 3);
      ck_assert_mem_eq(in, out, 3 * esz);
      ck_assert_uint_eq(out[3 * esz], 0xee);
    }
    ck_assert_int_eq(uvev_chan_destroy(&ch), 0);
  }
}
END_TEST

START_TEST(test_chan_try_closed) {
  uvev_chan_t ch;
  uint64_t v;

  ck_assert_int_eq(uvev_chan_init(&ch, 4, sizeof(v)), 0);
  v = 1;
  ck_assert_int_eq(uvev_chan_try_send(&ch, &v), 0);
  v = 2;
  ck_assert_int_eq(uvev_chan_try_send(&ch, &v), 0);
  uvev_chan_close(&ch);
  uvev_chan_close(&ch);  /* idempotent */
  v = 3;
  ck_assert_int_eq(uvev_chan_try_send(&ch, &v), UV_EPIPE);
  ck_assert_int_eq(uvev_chan_try_recv(&ch, &v), 0);
  ck_assert_uint_eq(v, 1);
  ck_assert_int_eq(uvev_chan_try_recv(&ch, &v), 0);
  ck_assert_uint_eq(v, 2);
  ck_assert_int_eq(uvev_chan_try_recv(&ch, &v), UV_EOF);
  ck_assert_int_eq(uvev_chan_try_recv(&ch, &v), UV_EOF);
  ck_assert_int_eq(uvev_chan_try_send(&ch, &v), UV_EPIPE);
  ck_assert_int_eq(uvev_chan_destroy(&ch), 0);

  /* Full and closed: EPIPE, not EAGAIN. */
  ck_assert_int_eq(uvev_chan_init(&ch, 1, sizeof(v)), 0);
  ck_assert_int_eq(uvev_chan_try_send(&ch, &v), 0);
  ck_assert_int_eq(uvev_chan_try_send(&ch, &v), UV_EAGAIN);
  uvev_chan_close(&ch);
  ck_assert_int_eq(uvev_chan_try_send(&ch, &v), UV_EPIPE);
  ck_assert_int_eq(uvev_chan_destroy(&ch), 0);
}
END_TEST

TCase* chan_ring_case(void) {
  TCase* tc;

  tc = test_case("ring", 0);
  tcase_add_test(tc, test_chan_capacities);
  tcase_add_test(tc, test_chan_element_sizes);
  tcase_add_test(tc, test_chan_try_closed);
  return tc;
}
