unsigned long fibonacci(int n);
