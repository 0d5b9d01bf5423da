/* jsonc_raw: json-c's own tokener over a JSON Lines file, line by line (the floor for our loader).
 * Usage: jsonc_raw REPEAT FILE  ->  prints two lines (medians of REPEAT runs):
 *   jsonc-raw  FILE MB/s   each line parsed and freed at once (memory reused while hot in cache)
 *   jsonc-keep FILE MB/s   every line parsed and kept, all freed at the end (what a loader that keeps
 *                          the parsed session, as a replay must, costs at least) */
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static int compare(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv) {
    if (argc != 3) { fprintf(stderr, "usage: jsonc_raw REPEAT FILE\n"); return 2; }
    int repeat = atoi(argv[1]);
    FILE *f = fopen(argv[2], "rb");
    if (!f) { perror(argv[2]); return 2; }
    fseek(f, 0, SEEK_END);
    long size = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buffer = malloc(size + 1);
    if (fread(buffer, 1, size, f) != (size_t)size) { perror("read"); return 2; }
    fclose(f);
    double *times = calloc(repeat, sizeof(double));
    double *keepTimes = calloc(repeat, sizeof(double));
    long lines = 1;
    for (long i = 0; i < size; i++) lines += buffer[i] == '\n';
    json_object **kept = calloc(lines, sizeof(json_object *));
    for (int r = 0; r < repeat; r++) {
        struct timespec start, end;
        clock_gettime(CLOCK_MONOTONIC, &start);
        json_tokener *tok = json_tokener_new();
        json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_ALLOW_TRAILING_CHARS);
        long offset = 0, objects = 0;
        while (offset < size) {
            char *newline = memchr(buffer + offset, '\n', size - offset);
            long length = (newline ? newline - buffer : size) - offset;
            json_object *obj = json_tokener_parse_ex(tok, buffer + offset, (int)length);
            if (obj) { objects++; json_object_put(obj); }
            json_tokener_reset(tok);
            offset += length + 1;
        }
        json_tokener_free(tok);
        clock_gettime(CLOCK_MONOTONIC, &end);
        times[r] = (end.tv_sec - start.tv_sec) + (end.tv_nsec - start.tv_nsec) / 1e9;
        if (objects == 0) { fprintf(stderr, "no JSON in %s\n", argv[2]); return 1; }

        clock_gettime(CLOCK_MONOTONIC, &start);
        tok = json_tokener_new();
        json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_ALLOW_TRAILING_CHARS);
        long count = 0;
        offset = 0;
        while (offset < size) {
            char *newline = memchr(buffer + offset, '\n', size - offset);
            long length = (newline ? newline - buffer : size) - offset;
            json_object *obj = json_tokener_parse_ex(tok, buffer + offset, (int)length);
            if (obj) kept[count++] = obj;
            json_tokener_reset(tok);
            offset += length + 1;
        }
        json_tokener_free(tok);
        for (long i = 0; i < count; i++) json_object_put(kept[i]);
        clock_gettime(CLOCK_MONOTONIC, &end);
        keepTimes[r] = (end.tv_sec - start.tv_sec) + (end.tv_nsec - start.tv_nsec) / 1e9;
    }
    qsort(times, repeat, sizeof(double), compare);
    const char *name = strrchr(argv[2], '/');
    printf("jsonc-raw  %s %.1f MB/s\n", name ? name + 1 : argv[2], size / 1e6 / times[repeat / 2]);
    qsort(keepTimes, repeat, sizeof(double), compare);
    printf("jsonc-keep %s %.1f MB/s\n", name ? name + 1 : argv[2], size / 1e6 / keepTimes[repeat / 2]);
    return 0;
}
