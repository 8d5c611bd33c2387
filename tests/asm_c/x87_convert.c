int to_int(double d) { return (int)d; }
double from_int(int i) { return i; }
