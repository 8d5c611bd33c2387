void *my_memcpy(void *d, const void *s, unsigned n) {
    char *dp = d; const char *sp = s;
    while (n--) *dp++ = *sp++;
    return d;
}
