/* outbuf_test.c - the output primitives every sink writes through (src/outbuf.c):
 * number conversion at its edges, addresses, JSON escaping, and lossy mode. */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "outbuf.h"

static struct outbuf *new_buf(int fd)
{
    struct outbuf *b = malloc(sizeof *b);
    assert_non_null(b);
    outbuf_init(b, fd);
    return b;
}

/* What the buffer holds, as a string (nothing is flushed: fd -1 is never written). */
static const char *held(struct outbuf *b)
{
    static char s[4096];
    assert_true(b->len < sizeof s);
    memcpy(s, b->data, b->len);
    s[b->len] = '\0';
    return s;
}

static void test_u64_edges(void **state)
{
    (void)state;
    static const struct {
        uint64_t v;
        const char *text;
    } cases[] = {
        {0, "0"}, {9, "9"}, {10, "10"}, {99, "99"}, {100, "100"}, {999, "999"},
        {1000, "1000"}, {99999, "99999"}, {100000, "100000"}, {4294967295u, "4294967295"},
        {4294967296ull, "4294967296"}, {9999999999ull, "9999999999"},
        {10000000000ull, "10000000000"}, {18446744073709551615ull, "18446744073709551615"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct outbuf *b = new_buf(-1);
        outbuf_u64(b, cases[i].v);
        assert_string_equal(held(b), cases[i].text);
        free(b);
    }
    /* every value up to 100000 and around each power of ten agrees with printf */
    struct outbuf *b = new_buf(-1);
    char want[32];
    for (uint64_t v = 0; v < 100000; v++) {
        b->len = 0;
        outbuf_u64(b, v);
        snprintf(want, sizeof want, "%llu", (unsigned long long)v);
        assert_string_equal(held(b), want);
    }
    for (uint64_t p = 10; p && p < UINT64_MAX / 10; p *= 10)
        for (uint64_t v = p - 2; v <= p + 2; v++) {
            b->len = 0;
            outbuf_u64(b, v);
            snprintf(want, sizeof want, "%llu", (unsigned long long)v);
            assert_string_equal(held(b), want);
        }
    b->len = 0;
    outbuf_i64(b, INT64_MIN);
    assert_string_equal(held(b), "-9223372036854775808");
    free(b);
}

static void check_u32(struct outbuf *b, uint32_t v)
{
    char want[32], got[32];
    b->len = 0;
    outbuf_u32(b, v);
    snprintf(want, sizeof want, "%u", v);
    assert_string_equal(held(b), want);
    memset(got, 'x', sizeof got);
    *outbuf_u64_text(got, v) = '\0';
    assert_string_equal(got, want);
}

/* The inline 32-bit conversion and the text-at-a-pointer forms agree with printf:
 * every value up to 10^6, around each power of ten, and a spread of the rest. */
static void test_u32_text(void **state)
{
    (void)state;
    struct outbuf *b = new_buf(-1);
    for (uint32_t v = 0; v < 1000000; v++)
        check_u32(b, v);
    for (uint64_t p = 10; p <= 1000000000; p *= 10)
        for (uint64_t v = p - 2; v <= p + 2; v++)
            check_u32(b, (uint32_t)v);
    for (uint32_t v = UINT32_MAX - 4; v != 0; v++)
        check_u32(b, v);
    for (uint32_t i = 0; i < 200000; i++)
        check_u32(b, i * 2654435761u);
    free(b);
    char t[32];
    *outbuf_u64_text(t, 18446744073709551615ull) = '\0';
    assert_string_equal(t, "18446744073709551615");
    *outbuf_u64_text(t, 4294967296ull) = '\0';
    assert_string_equal(t, "4294967296");
}

/* Direct writes: reserve flushes when the room is short, commit keeps what was written. */
static void test_reserve_commit(void **state)
{
    (void)state;
    struct outbuf *b = new_buf(-1);
    char *w = outbuf_reserve(b, 64);
    w = outbuf_str_text(w, "win ");
    w = outbuf_u32_text(w, 502);
    outbuf_commit(b, w);
    assert_string_equal(held(b), "win 502");
    b->len = OUTBUF_SIZE - 10;
    w = outbuf_reserve(b, 64); /* fd -1: the flush fails, and the buffer is emptied */
    assert_int_equal(b->len, 0);
    outbuf_commit(b, outbuf_str_text(w, "after"));
    assert_string_equal(held(b), "after");
    free(b);
}

static void test_u64w_and_hex(void **state)
{
    (void)state;
    struct outbuf *b = new_buf(-1);
    outbuf_u64w(b, 7, 2);
    outbuf_putc(b, ':');
    outbuf_u64w(b, 123456, 6);
    outbuf_putc(b, ':');
    outbuf_u64w(b, 5, 9);
    outbuf_putc(b, ':');
    outbuf_hex(b, 0x800, 4);
    outbuf_putc(b, ':');
    outbuf_hex(b, 0, 1);
    assert_string_equal(held(b), "07:123456:000000005:0800:0");
    free(b);
}

static void test_addresses(void **state)
{
    (void)state;
    static const uint8_t a[][16] = {{0, 0, 0, 0}, {255, 255, 255, 255}, {10, 0, 100, 9},
                                    {127, 0, 0, 1}};
    static const char *text[] = {"0.0.0.0", "255.255.255.255", "10.0.100.9", "127.0.0.1"};
    for (size_t i = 0; i < 4; i++) {
        struct outbuf *b = new_buf(-1);
        outbuf_addr(b, 4, a[i]);
        assert_string_equal(held(b), text[i]);
        char s[64];
        assert_int_equal(addr_text(4, a[i], s, sizeof s), strlen(text[i]));
        assert_string_equal(s, text[i]);
        free(b);
    }
    /* every octet value in every position, against printf */
    struct outbuf *ob = new_buf(-1);
    for (unsigned pos = 0; pos < 4; pos++)
        for (unsigned o = 0; o < 256; o++) {
            uint8_t q[4] = {1, 22, 133, 4};
            q[pos] = (uint8_t)o;
            char want[32], got[64], s[64];
            snprintf(want, sizeof want, "%u.%u.%u.%u", q[0], q[1], q[2], q[3]);
            ob->len = 0;
            outbuf_addr(ob, 4, q);
            assert_string_equal(held(ob), want);
            *outbuf_addr_text(got, 4, q) = '\0';
            assert_string_equal(got, want);
            assert_int_equal(addr_text(4, q, s, sizeof s), strlen(want));
            assert_string_equal(s, want);
            /* cut like snprintf */
            assert_int_equal(addr_text(4, q, s, 5), 4);
            assert_memory_equal(s, want, 4);
            assert_int_equal(s[4], '\0');
        }
    free(ob);
    uint8_t v6[16] = {0};
    v6[15] = 1;
    struct outbuf *b = new_buf(-1);
    outbuf_addr(b, 6, v6);
    assert_string_equal(held(b), "::1");
    char t[INET6_TEXT_MAX];
    *outbuf_addr_text(t, 6, v6) = '\0';
    assert_string_equal(t, "::1");
    free(b);
}

static void test_printf_long(void **state)
{
    (void)state;
    struct outbuf *b = new_buf(-1);
    char word[3001];
    memset(word, 'x', 3000);
    word[3000] = '\0';
    outbuf_printf(b, "<%s>", word); /* beyond the 1 KiB scratch buffer: nothing lost */
    assert_int_equal(b->len, 3002);
    assert_int_equal(b->data[0], '<');
    assert_int_equal(b->data[3001], '>');
    free(b);
}

static void test_json_escaping(void **state)
{
    (void)state;
    struct outbuf *b = new_buf(-1);
    const char in[] = "a\"b\\c\nd\x01\xe9";
    outbuf_json_str(b, in, sizeof in - 1);
    assert_string_equal(held(b), "\"a\\\"b\\\\c\\u000ad\\u0001\\u00e9\"");
    free(b);
}

/* Lossy mode: a reader that takes nothing never blocks the writer; what is dropped is
 * counted, and only whole lines are dropped. */
static void test_lossy_never_blocks(void **state)
{
    (void)state;
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    struct outbuf *b = new_buf(fds[1]);
    b->lossy = true;
    uint64_t lines = 0;
    for (int i = 0; i < 20000; i++) { /* ~1 MB: far more than a pipe holds */
        outbuf_puts(b, "a line of packet output that nobody is reading right now\n");
        lines++;
        outbuf_maybe_flush(b);
    }
    outbuf_flush(b);
    assert_false(b->failed);
    assert_true(b->dropped_lines > 0);
    assert_int_equal(b->written + b->dropped_bytes, lines * 57);
    assert_int_equal(b->written % 57, 0); /* whole lines only */
    assert_int_equal(b->dropped_lines * 57, b->dropped_bytes);
    close(fds[0]);
    close(fds[1]);
    free(b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_u64_edges),
        cmocka_unit_test(test_u32_text),
        cmocka_unit_test(test_reserve_commit),
        cmocka_unit_test(test_u64w_and_hex),
        cmocka_unit_test(test_addresses),
        cmocka_unit_test(test_printf_long),
        cmocka_unit_test(test_json_escaping),
        cmocka_unit_test(test_lossy_never_blocks),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
