int sum_n(int n, ...) {
    __builtin_va_list ap; int s = 0;
    __builtin_va_start(ap, n);
    while (n--) s += __builtin_va_arg(ap, int);
    __builtin_va_end(ap);
    return s;
}
int call_sum(void) { return sum_n(4, 1, 2, 3, 4); }
