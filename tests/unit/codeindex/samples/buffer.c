#include <stdlib.h>
#include "buffer.h"

/* Grow the buffer to hold n more bytes. */
int buffer_grow(struct buffer *b, size_t n) {
    char *data = realloc(b->data, b->len + n);
    if (!data) return -1;
    b->data = data;
    return 0;
}

static void buffer_free(struct buffer *b) {
    free(b->data);
}
