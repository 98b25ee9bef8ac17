print("collector-cli")
