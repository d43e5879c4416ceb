/* verify_report.c - verify's outputs: a verdict block per server and a summary table
 * (text), NDJSON check and summary objects (-o json), and JUnit XML (--junit FILE).
 *
 * Pipeline place: verify_checks.c -> [report] -> stdout / the JUnit file.
 */
#include <string.h>

#include "verify.h"

/* ---------------------------------------------------------------- counting */

struct counts {
    unsigned pass, fail, inconclusive;
};

static struct counts count_server(const struct verify *V, const struct vserver *s)
{
    struct counts c = {0, 0, 0};
    for (int k = 0; k < CHK_COUNT; k++) {
        if (!V->selected[k])
            continue;
        switch (s->v[k].result) {
        case V_PASS:
            c.pass++;
            break;
        case V_FAIL:
            c.fail++;
            break;
        default:
            c.inconclusive++;
            break;
        }
    }
    return c;
}

static const char *overall(struct counts c)
{
    return c.fail ? "FAIL" : c.inconclusive ? "INCONCLUSIVE" : "PASS";
}

int verify_exit_code(const struct verify *V)
{
    bool fail = false, inc = false;
    for (size_t i = 0; i < V->n_servers; i++) {
        struct counts c = count_server(V, &V->servers[i]);
        fail |= c.fail > 0;
        inc |= c.inconclusive > 0;
    }
    return fail ? 1 : inc ? 3 : 0;
}

/* ---------------------------------------------------------------- JSON */

static void json_str(FILE *f, const char *s)
{
    fputc('"', f);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\')
            fprintf(f, "\\%c", *p);
        else if (*p == '\n')
            fputs("\\n", f);
        else if (*p < 0x20 || *p >= 0x7f)
            fprintf(f, "\\u%04x", *p);
        else
            fputc(*p, f);
    }
    fputc('"', f);
}

static void json_server(const struct verify *V, const struct vserver *s)
{
    for (int k = 0; k < CHK_COUNT; k++) {
        if (!V->selected[k])
            continue;
        const struct verdict *v = &s->v[k];
        fputs("{\"type\":\"check\",\"server\":", stdout);
        json_str(stdout, s->name);
        fputs(",\"name\":", stdout);
        json_str(stdout, vcheck_name((enum vcheck)k));
        printf(",\"result\":\"%s\",\"reason\":", vresult_name(v->result));
        json_str(stdout, v->reason);
        fputs(",\"frames\":[", stdout);
        for (unsigned i = 0; i < v->n_frames; i++)
            printf("%s%llu", i ? "," : "", (unsigned long long)v->frames[i]);
        fputs("]}\n", stdout);
    }
    fflush(stdout);
}

/* ---------------------------------------------------------------- text */

void verify_print_server(const struct verify *V, const struct vserver *s)
{
    if (V->json) {
        json_server(V, s);
        return;
    }
    printf("== %s", s->name);
    printf("  (%s server", V->kind == KIND_FILE ? "file" : "echo");
    if (s->command)
        printf(", started: %s", s->command);
    else if (s->live)
        printf(", already running");
    printf(")\n");
    if (s->proc_note[0])
        printf("   note: %s\n", s->proc_note);
    for (int k = 0; k < CHK_COUNT; k++) {
        if (!V->selected[k])
            continue;
        const struct verdict *v = &s->v[k];
        printf("  %-12s %-20s %s", vresult_name(v->result), vcheck_name((enum vcheck)k), v->reason);
        if (v->n_frames) {
            printf(" [frame%s", v->n_frames > 1 ? "s" : "");
            for (unsigned i = 0; i < v->n_frames; i++)
                printf("%s%llu", i ? ", " : " ", (unsigned long long)v->frames[i]);
            printf("]");
        }
        printf("\n");
    }
    struct counts c = count_server(V, s);
    printf("  => %s: %u passed, %u failed, %u inconclusive\n\n", overall(c), c.pass, c.fail,
           c.inconclusive);
    fflush(stdout);
}

void verify_print_summary(const struct verify *V)
{
    struct counts all = {0, 0, 0};
    if (V->json) {
        printf("{\"type\":\"summary\",\"servers\":%zu,", V->n_servers);
        for (size_t i = 0; i < V->n_servers; i++) {
            struct counts c = count_server(V, &V->servers[i]);
            all.pass += c.pass;
            all.fail += c.fail;
            all.inconclusive += c.inconclusive;
        }
        printf("\"checks\":%u,\"pass\":%u,\"fail\":%u,\"inconclusive\":%u,\"result\":\"%s\","
               "\"exit\":%d,\"by_server\":[",
               all.pass + all.fail + all.inconclusive, all.pass, all.fail, all.inconclusive,
               overall(all), verify_exit_code(V));
        for (size_t i = 0; i < V->n_servers; i++) {
            const struct vserver *s = &V->servers[i];
            struct counts c = count_server(V, s);
            printf("%s{\"server\":", i ? "," : "");
            json_str(stdout, s->name);
            printf(",\"result\":\"%s\",\"pass\":%u,\"fail\":%u,\"inconclusive\":%u}", overall(c),
                   c.pass, c.fail, c.inconclusive);
        }
        printf("]");
        if (V->write_file) {
            printf(",\"capture\":");
            json_str(stdout, V->write_file);
        }
        printf("}\n");
        fflush(stdout);
        return;
    }
    printf("Summary: %zu server%s\n", V->n_servers, V->n_servers == 1 ? "" : "s");
    printf("  %-28s %5s %5s %13s  %-13s %s\n", "server", "pass", "fail", "inconclusive", "result",
           "failed (inconclusive) checks");
    for (size_t i = 0; i < V->n_servers; i++) {
        const struct vserver *s = &V->servers[i];
        struct counts c = count_server(V, s);
        all.pass += c.pass;
        all.fail += c.fail;
        all.inconclusive += c.inconclusive;
        char list[512] = "";
        size_t n = 0;
        for (int pass = 0; pass < 2; pass++)
            for (int k = 0; k < CHK_COUNT; k++) {
                if (!V->selected[k] || s->v[k].result != (pass ? V_INCONCLUSIVE : V_FAIL))
                    continue;
                int w = snprintf(list + n, sizeof list - n, pass ? "%s(%s)" : "%s%s", n ? " " : "",
                                 vcheck_name((enum vcheck)k));
                if (w > 0 && (size_t)w < sizeof list - n)
                    n += (size_t)w;
            }
        printf("  %-28s %5u %5u %13u  %-13s %s\n", s->name, c.pass, c.fail, c.inconclusive,
               overall(c), list);
    }
    printf("Result: %s (exit %d)", overall(all), verify_exit_code(V));
    if (V->write_file)
        printf("; frame numbers refer to %s", V->write_file);
    else if (!V->read_file)
        printf("; keep the capture the frame numbers refer to with -w FILE");
    printf("\n");
    fflush(stdout);
}

/* ---------------------------------------------------------------- JUnit */

/* XML text or attribute value: escape markup, and replace what XML 1.0 forbids. */
static void xml_str(FILE *f, const char *s)
{
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        switch (*p) {
        case '&':
            fputs("&amp;", f);
            break;
        case '<':
            fputs("&lt;", f);
            break;
        case '>':
            fputs("&gt;", f);
            break;
        case '"':
            fputs("&quot;", f);
            break;
        case '\'':
            fputs("&apos;", f);
            break;
        case '\n':
            fputs("&#10;", f);
            break;
        default:
            fputc(*p < 0x20 || *p >= 0x7f ? '?' : *p, f);
            break;
        }
    }
}

static void frames_text(char *out, size_t n, const struct verdict *v)
{
    size_t k = 0;
    out[0] = '\0';
    for (unsigned i = 0; i < v->n_frames && k < n; i++) {
        int w = snprintf(out + k, n - k, "%s%llu", i ? " " : "", (unsigned long long)v->frames[i]);
        if (w < 0)
            break;
        k += (size_t)w;
    }
}

int verify_write_junit(const struct verify *V, char *err, size_t errlen)
{
    FILE *f = V->junit;
    if (!f)
        return 0;
    struct counts all = {0, 0, 0};
    double total = 0;
    for (size_t i = 0; i < V->n_servers; i++) {
        struct counts c = count_server(V, &V->servers[i]);
        all.pass += c.pass;
        all.fail += c.fail;
        all.inconclusive += c.inconclusive;
        total += V->servers[i].seconds;
    }
    fprintf(f, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    fprintf(f,
            "<testsuites name=\"synack verify\" tests=\"%u\" failures=\"%u\" errors=\"0\" "
            "skipped=\"%u\" time=\"%.3f\">\n",
            all.pass + all.fail + all.inconclusive, all.fail, all.inconclusive, total);
    for (size_t i = 0; i < V->n_servers; i++) {
        const struct vserver *s = &V->servers[i];
        struct counts c = count_server(V, s);
        fprintf(f, "  <testsuite name=\"");
        xml_str(f, s->name);
        fprintf(f,
                "\" id=\"%zu\" tests=\"%u\" failures=\"%u\" errors=\"0\" skipped=\"%u\" "
                "time=\"%.3f\">\n",
                i, c.pass + c.fail + c.inconclusive, c.fail, c.inconclusive, s->seconds);
        fprintf(f, "    <properties>\n      <property name=\"kind\" value=\"%s\"/>\n",
                V->kind == KIND_FILE ? "file" : "echo");
        if (s->command) {
            fprintf(f, "      <property name=\"command\" value=\"");
            xml_str(f, s->command);
            fprintf(f, "\"/>\n");
        }
        if (V->write_file || V->read_file) {
            fprintf(f, "      <property name=\"capture\" value=\"");
            xml_str(f, V->write_file ? V->write_file : V->read_file);
            fprintf(f, "\"/>\n");
        }
        fprintf(f, "    </properties>\n");
        char cls[128];
        snprintf(cls, sizeof cls, "synack.verify.%s", s->name);
        for (char *p = cls + 14; *p; p++)
            if (*p == '.')
                *p = '_';
        for (int k = 0; k < CHK_COUNT; k++) {
            if (!V->selected[k])
                continue;
            const struct verdict *v = &s->v[k];
            char fr[160];
            frames_text(fr, sizeof fr, v);
            fprintf(f, "    <testcase name=\"%s\" classname=\"", vcheck_name((enum vcheck)k));
            xml_str(f, cls);
            fprintf(f, "\" time=\"0\">\n");
            if (v->result != V_PASS) {
                bool failed = v->result == V_FAIL;
                fprintf(f, "      <%s message=\"", failed ? "failure" : "skipped");
                xml_str(f, v->reason);
                fprintf(f, "\"%s>", failed ? " type=\"FAIL\"" : "");
                fprintf(f, "%s: ", vresult_name(v->result));
                xml_str(f, v->reason);
                if (fr[0]) {
                    fprintf(f, "&#10;frames: ");
                    xml_str(f, fr);
                }
                fprintf(f, "</%s>\n", failed ? "failure" : "skipped");
            }
            fprintf(f, "      <system-out>");
            xml_str(f, vcheck_what((enum vcheck)k));
            fprintf(f, "&#10;%s: ", vresult_name(v->result));
            xml_str(f, v->reason);
            if (fr[0]) {
                fprintf(f, "&#10;frames: ");
                xml_str(f, fr);
            }
            fprintf(f, "</system-out>\n    </testcase>\n");
        }
        fprintf(f, "  </testsuite>\n");
    }
    fprintf(f, "</testsuites>\n");
    if (fflush(f) != 0 || ferror(f)) {
        snprintf(err, errlen, "--junit %s: write error", V->junit_path);
        return -1;
    }
    return 0;
}
