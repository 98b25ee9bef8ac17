/// The command line as users type it, rewritten into what ArgumentParser takes, before parsing:
///
/// * Connection options before the subcommand (`collector-cli --collector db:7070 hosts`) move
///   after it: ArgumentParser only takes a subcommand's options after its name.
/// * An option whose value may be left out (`hosts --watch`) gets its default value.
enum ArgumentNormalization {
    /// Options every subcommand takes (`ConnectionOptions`), each with a value.
    static let connectionOptions: Set<String> = ["--collector", "--token-file"]

    /// Per subcommand, options whose value may be left out, and that value.
    static let defaultValues: [String: [String: String]] = [
        HostsCommand.configuration.commandName!: ["--watch": HostsCommand.defaultWatchSeconds],
    ]

    static func normalized(_ arguments: [String], subcommands: Set<String>) -> [String] {
        var leading: [String] = []
        var index = 0
        while index < arguments.count {
            let argument = arguments[index]
            let name = String(argument.split(separator: "=", maxSplits: 1).first ?? "")
            guard connectionOptions.contains(name) else { break }
            let takesNext = !argument.contains("=") && index + 1 < arguments.count
            leading += takesNext ? [argument, arguments[index + 1]] : [argument]
            index += takesNext ? 2 : 1
        }
        guard index < arguments.count, subcommands.contains(arguments[index]) else { return arguments }
        let subcommand = arguments[index]
        var rest = Array(arguments[(index + 1)...]) + leading
        for (option, value) in defaultValues[subcommand] ?? [:] {
            var position = 0
            while position < rest.count {
                if rest[position] == option && (position + 1 == rest.count || rest[position + 1].hasPrefix("-")) {
                    rest.insert(value, at: position + 1)
                }
                position += 1
            }
        }
        return [subcommand] + rest
    }
}
