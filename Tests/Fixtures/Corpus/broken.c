// Does not compile: gcc must fail with the same diagnostics and status under the agent.
int main(void) {
    int answer = undeclared_variable + 1;
    return answer
}
