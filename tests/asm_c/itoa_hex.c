char *to_hex(unsigned v, char *buf) {
    static const char digits[] = "0123456789abcdef";
    for (int i = 7; i >= 0; i--) { buf[i] = digits[v & 15]; v >>= 4; }
    buf[8] = 0;
    return buf;
}
