/* anomaly.c - names and descriptions of anomalies, generated from the one X-macro list.
 *
 * Pipeline place: shared by decode and the tcp tracker (include/synack/anomaly.h).
 */
#include "synack/anomaly.h"

static const char *const anomaly_names[ANOMALY_COUNT] = {
#define SYNACK_ANOMALY_NAME(id, name, desc) [ANOMALY_##id] = name,
    SYNACK_ANOMALIES(SYNACK_ANOMALY_NAME)
#undef SYNACK_ANOMALY_NAME
};

static const char *const anomaly_descs[ANOMALY_COUNT] = {
#define SYNACK_ANOMALY_DESC(id, name, desc) [ANOMALY_##id] = desc,
    SYNACK_ANOMALIES(SYNACK_ANOMALY_DESC)
#undef SYNACK_ANOMALY_DESC
};

/* anomaly_name: the stable dotted name; "?" for a value outside the list. */
const char *anomaly_name(enum anomaly a)
{
    if ((unsigned)a >= ANOMALY_COUNT)
        return "?";
    return anomaly_names[a];
}

/* anomaly_desc: the one-line description; "?" for a value outside the list. */
const char *anomaly_desc(enum anomaly a)
{
    if ((unsigned)a >= ANOMALY_COUNT)
        return "?";
    return anomaly_descs[a];
}
