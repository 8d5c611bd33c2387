struct pair { int a; int b; };
struct pair swap(struct pair p) { struct pair q = { p.b, p.a }; return q; }
int sum_pair(void) { struct pair p = { 3, 4 }; p = swap(p); return p.a * 10 + p.b; }
