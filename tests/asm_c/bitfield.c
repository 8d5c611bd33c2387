struct flags { unsigned a : 3; unsigned b : 5; unsigned c : 1; signed d : 7; };
int pack(int a, int b, int c, int d) { struct flags f = { a, b, c, d }; return f.a + f.b * 8 + f.c * 256 + f.d * 512; }
