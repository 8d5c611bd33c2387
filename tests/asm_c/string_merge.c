/* Strings ld merges: one that ends another ("found" in "file not found"), the
 * same text twice, and long strings gcc aligns to 4 (.rodata.str1.4). */
static const char *const messages[] = {
    "file not found", "not found", "found", "", "d",
    "this message is long enough for gcc to align it to four bytes",
    "to align it to four bytes",
};

const char *message(unsigned n)
{
    return n < sizeof messages / sizeof messages[0] ? messages[n] : "found";
}

unsigned length_of(unsigned n)
{
    const char *s = message(n);
    unsigned len = 0;
    while (s[len])
        len++;
    return len;
}
