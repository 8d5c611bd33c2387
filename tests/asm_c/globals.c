int counter = 5;
static int hidden_total;
int bump(int d) { counter += d; hidden_total += counter; return hidden_total; }
int buffer[64];
void fill(int v) { for (int i = 0; i < 64; i++) buffer[i] = v + i; }
