typedef float v4sf __attribute__((vector_size(16)));
v4sf vadd(v4sf a, v4sf b) { return a + b; }
void add_arrays(float *restrict d, const float *a, const float *b, int n) { for (int i = 0; i < n; i++) d[i] = a[i] + b[i]; }
