/*
 * Baseline of `faxcore bench fax`: two spandsp fax terminals back to back,
 * 160 samples (20 ms) at a time, with the same options faxcore's FaxSession
 * sets.  Compiled at benchmark time against the installed libspandsp.
 *
 * usage: fax_loop TX.tif RX.tif ECM(0|1) MAX_SECONDS
 * prints: cpu_seconds=<f> modem_seconds=<f> tx_result=<n> rx_result=<n> pages=<n> bit_rate=<n>
 * exit status 0 when both sides ended with T30_ERR_OK.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <inttypes.h>
#include <spandsp.h>

#define FRAME 160

static int results[2] = {-1, -1};

static void phase_e(t30_state_t *s, void *user_data, int completion_code)
{
    (void) s;
    results[(intptr_t) user_data] = completion_code;
}

static void configure(t30_state_t *t30, int ecm, const char *ident, intptr_t index)
{
    t30_set_tx_ident(t30, ident);
    t30_set_ecm_capability(t30, ecm);
    t30_set_supported_modems(t30, T30_SUPPORT_V17 | T30_SUPPORT_V29 | T30_SUPPORT_V27TER);
    t30_set_supported_resolutions(t30, T30_SUPPORT_STANDARD_RESOLUTION
                                       | T30_SUPPORT_FINE_RESOLUTION
                                       | T30_SUPPORT_SUPERFINE_RESOLUTION);
    t30_set_supported_image_sizes(t30, T30_SUPPORT_215MM_WIDTH | T30_SUPPORT_UNLIMITED_LENGTH
                                       | T30_SUPPORT_A4_LENGTH | T30_SUPPORT_B4_LENGTH
                                       | T30_SUPPORT_US_LETTER_LENGTH
                                       | T30_SUPPORT_US_LEGAL_LENGTH);
    t30_set_supported_compressions(t30, ecm
        ? (T30_SUPPORT_T4_1D_COMPRESSION | T30_SUPPORT_T4_2D_COMPRESSION | T30_SUPPORT_T6_COMPRESSION)
        : (T30_SUPPORT_T4_1D_COMPRESSION | T30_SUPPORT_T4_2D_COMPRESSION));
    t30_set_phase_e_handler(t30, phase_e, (void *) index);
}

static double cpu_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char *argv[])
{
    if (argc != 5)
    {
        fprintf(stderr, "usage: %s TX.tif RX.tif ECM MAX_SECONDS\n", argv[0]);
        return 2;
    }
    int ecm = atoi(argv[3]);
    long max_steps = (long) (atof(argv[4]) * 8000.0 / FRAME);
    int16_t a_buf[FRAME];
    int16_t b_buf[FRAME];
    long step;
    t30_stats_t stats;

    double start = cpu_now();
    fax_state_t *a = fax_init(NULL, 1);
    fax_state_t *b = fax_init(NULL, 0);
    if (a == NULL || b == NULL)
    {
        fprintf(stderr, "fax_init failed\n");
        return 2;
    }
    fax_set_transmit_on_idle(a, 1);
    fax_set_transmit_on_idle(b, 1);
    fax_set_tep_mode(a, 0);
    fax_set_tep_mode(b, 0);
    configure(fax_get_t30_state(a), ecm, "+33 1 23 45 67 89", 0);
    configure(fax_get_t30_state(b), ecm, "+33 9 87 65 43 21", 1);
    t30_set_tx_file(fax_get_t30_state(a), argv[1], -1, -1);
    t30_set_rx_file(fax_get_t30_state(b), argv[2], -1);

    for (step = 1;  step <= max_steps;  step++)
    {
        fax_tx(a, a_buf, FRAME);
        fax_tx(b, b_buf, FRAME);
        fax_rx(b, a_buf, FRAME);
        fax_rx(a, b_buf, FRAME);
        if (results[0] >= 0 && results[1] >= 0)
            break;
    }
    t30_get_transfer_statistics(fax_get_t30_state(b), &stats);
    fax_free(a);
    fax_free(b);
    double cpu = cpu_now() - start;
    printf("cpu_seconds=%.6f modem_seconds=%.2f tx_result=%d rx_result=%d pages=%d bit_rate=%d\n",
           cpu, step * FRAME / 8000.0, results[0], results[1], stats.pages_rx, stats.bit_rate);
    return (results[0] == T30_ERR_OK && results[1] == T30_ERR_OK) ? 0 : 1;
}
