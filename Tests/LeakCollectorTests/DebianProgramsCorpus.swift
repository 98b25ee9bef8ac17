import Foundation
import Testing

/// One command of a corpus program, run in the program's working directory (a fresh copy of
/// Tests/Fixtures/Corpus).
struct CorpusStep: Sendable {
    /// argv: an absolute path of a Debian program, or `./NAME` for one an earlier step built.
    var command: [String]
    /// What the plain run exits with; anything else means the corpus itself is broken.
    var expectedStatus: Int32 = 0
    /// A static executable: there is no dynamic loader to honour LD_PRELOAD, so no agent and no report.
    var isStatic = false
}

/// A program from Debian and what it is asked to do: deterministic commands whose output does not
/// depend on the time, the pid or the temporary directory.
struct CorpusProgram: Sendable, CustomTestStringConvertible {
    var name: String
    var steps: [CorpusStep]
    /// Files that must exist beyond the steps' absolute executables, with the Debian package of each.
    var needs: [String: String] = [:]
    /// Working-directory files whose bytes legitimately differ from run to run (stat data).
    var ignoredFiles: Set<String> = []
    /// Runs long enough (seconds, at a 0.5 s interval) that the collector must have stored snapshots.
    var shipsWhileRunning = false

    var testDescription: String { name }
}

private func run(_ command: String..., status: Int32 = 0, isStatic: Bool = false) -> CorpusStep {
    CorpusStep(command: command, expectedStatus: status, isStatic: isStatic)
}

enum DebianCorpus {
    /// The Debian package of every absolute executable the table runs (`dpkg -S`, Debian 12).
    static let packageOf: [String: String] = [
        "/usr/bin/gcc": "gcc", "/usr/bin/g++": "g++", "/usr/bin/cpp": "cpp", "/usr/bin/strip": "binutils",
        "/usr/bin/make": "make", "/usr/bin/python3": "python3", "/usr/bin/perl": "perl-base",
        "/bin/bash": "bash", "/bin/sh": "dash", "/usr/bin/git": "git", "/usr/bin/sqlite3": "sqlite3",
        "/bin/tar": "tar", "/bin/gzip": "gzip", "/bin/gunzip": "gzip", "/usr/bin/mawk": "mawk",
        "/bin/sed": "sed", "/bin/grep": "grep", "/usr/bin/find": "findutils", "/usr/bin/xargs": "findutils",
        "/usr/bin/diff": "diffutils", "/usr/bin/sort": "coreutils", "/usr/bin/uniq": "coreutils",
        "/usr/bin/wc": "coreutils", "/usr/bin/sha256sum": "coreutils", "/usr/bin/seq": "coreutils",
        "/usr/bin/od": "coreutils", "/usr/bin/base64": "coreutils", "/bin/cp": "coreutils", "/bin/ls": "coreutils",
    ]

    static let gcc = "/usr/bin/gcc"
    static let python3 = "/usr/bin/python3"
    static let perl = "/usr/bin/perl"

    static let programs: [CorpusProgram] = compilers + interpreters + tools + coreutils

    static let compilers: [CorpusProgram] = [
        CorpusProgram(name: "gcc: PIE program", steps: [run(gcc, "-O2", "-g", "-o", "hello", "hello.c"), run("./hello")]),
        CorpusProgram(name: "gcc: diagnostics", steps: [run(gcc, "-Wall", "-c", "broken.c", status: 1)]),
        CorpusProgram(name: "gcc: non-PIE program", steps: [
            run(gcc, "-no-pie", "-O1", "-g", "-fno-omit-frame-pointer", "-o", "leaker", "leaker.c"),
            run("./leaker", "4096", "3", status: 3),
        ], shipsWhileRunning: true),
        CorpusProgram(name: "gcc: static-pie program", steps: [
            run(gcc, "-static-pie", "-O2", "-o", "leaker-static", "leaker.c"),
            run("./leaker-static", status: 3, isStatic: true),
        ], needs: ["/usr/lib/x86_64-linux-gnu/libc.a": "libc6-dev"]),
        CorpusProgram(name: "strip: stripped program", steps: [
            run(gcc, "-O2", "-o", "leaker-stripped", "leaker.c"),
            run("/usr/bin/strip", "leaker-stripped"),
            run("./leaker-stripped", "3000", "2", status: 3),
        ], shipsWhileRunning: true),
        CorpusProgram(name: "g++: C++ program", steps: [
            run("/usr/bin/g++", "-O2", "-std=c++17", "-o", "words", "words.cpp"), run("./words"),
        ]),
        CorpusProgram(name: "cpp: preprocess", steps: [run("/usr/bin/cpp", "-P", "macros.c")]),
        CorpusProgram(name: "gcc: closes fds 0-2", steps: [run(gcc, "-O1", "-o", "closes_fds", "closes_fds.c"), run("./closes_fds")]),
        CorpusProgram(name: "gcc: closes every fd above 2", steps: [
            run(gcc, "-O1", "-o", "closes_descriptors", "closes_descriptors.c"), run("./closes_descriptors"),
        ]),
        CorpusProgram(name: "gcc: dlopen and dlclose", steps: [
            run(gcc, "-shared", "-fPIC", "-O1", "-g", "-fno-omit-frame-pointer", "-o", "libplugin.so", "plugin.c"),
            run(gcc, "-O1", "-o", "plugin_host", "plugin_host.c"),
            run("./plugin_host"),
        ]),
        CorpusProgram(name: "make -j2", steps: [run("/usr/bin/make", "-s", "-j2", "run")], needs: ["/usr/bin/cc": "gcc"]),
    ]

    static let interpreters: [CorpusProgram] = [
        CorpusProgram(name: "python3 -c", steps: [run(python3, "-c", """
            import collections, hashlib, json, re
            rows = [line.split(",") for line in open("data.csv").read().split()]
            by_country = collections.defaultdict(int)
            for city, people, country in rows:
                by_country[country] += int(people)
            words = re.findall(r"[a-z]+", open("words.txt").read())
            table = {str(i): [i * j for j in range(50)] for i in range(2000)}
            print(json.dumps(sorted(by_country.items()), sort_keys=True))
            print(collections.Counter(words).most_common(3))
            print(hashlib.sha256(json.dumps(table, sort_keys=True).encode()).hexdigest())
            """)]),
        CorpusProgram(name: "python3: ctypes dlclose", steps: [
            run(gcc, "-shared", "-fPIC", "-O1", "-o", "libplugin.so", "plugin.c"),
            run(python3, "-c", """
                import ctypes, _ctypes
                for round in range(3):
                    plugin = ctypes.CDLL("./libplugin.so")
                    print(round, plugin.plugin_build_table(round))
                    _ctypes.dlclose(plugin._handle)
                """),
        ]),
        CorpusProgram(name: "python3: fork", steps: [run(python3, "-c", """
            import os, sys
            data = [bytes(1000) for _ in range(1000)]
            pid = os.fork()
            if pid == 0:
                print("child sees", len(data), flush=True)
                sys.exit(4)
            _, status = os.waitpid(pid, 0)
            print("child exited with", os.waitstatus_to_exitcode(status))
            """)]),
        CorpusProgram(name: "perl -e", steps: [run(perl, "-e", """
            open(my $in, "<", "words.txt") or die; my %count;
            while (<$in>) { $count{$_}++ for split }
            for my $word (sort { $count{$b} <=> $count{$a} || $a cmp $b } keys %count) { printf "%-6s %d\\n", $word, $count{$word} }
            my @big = map { "x" x $_ } 1 .. 2000; print length(join("", @big)), "\\n";
            warn "perl: to stderr\\n"; exit 5;
            """, status: 5)]),
        CorpusProgram(name: "perl: fork", steps: [run(perl, "-e", """
            my @data = map { [$_] x 10 } 1 .. 10000;
            my $pid = fork(); die "fork: $!" unless defined $pid;
            if ($pid == 0) { print "child has ", scalar(@data), "\\n"; exit 7 }
            waitpid($pid, 0); print "child status ", $? >> 8, "\\n";
            """)]),
        CorpusProgram(name: "bash: subshells fork", steps: [run("/bin/bash", "-c", """
            for i in $(/usr/bin/seq 1 20); do (echo "child $i $((i * i))"; exit $((i % 3))); echo "status $?"; done
            captured=$(echo inner; echo more); echo "$captured" | while read -r line; do echo "got $line"; done
            declare -A seen; for word in $(cat words.txt); do seen[$word]=1; done; echo "${#seen[@]} distinct"
            echo "to stderr" >&2; exit 6
            """, status: 6)]),
        CorpusProgram(name: "sh: closes fds 0-2", steps: [run("/bin/sh", "-c", """
            exec 0<&- 1>&- 2>&-
            /usr/bin/seq 1 5 > out.txt
            /bin/ls no-such-file 2> err.txt
            /bin/sed s/1/one/ out.txt >> out.txt.2
            echo "done $?" >> out.txt
            """)]),
    ]

    static let tools: [CorpusProgram] = [
        CorpusProgram(name: "git", steps: [
            run("/usr/bin/git", "init", "-q", "-b", "main"),
            run("/usr/bin/git", "add", "."),
            run("/usr/bin/git", "commit", "-q", "-m", "corpus fixtures"),
            run("/usr/bin/git", "log", "--format=%H %an <%ae> %ad %s", "--date=iso-strict"),
            run("/usr/bin/git", "show", "--stat", "--format=%T", "HEAD"),
            run("/usr/bin/git", "diff", "--no-index", "a.txt", "b.txt", status: 1),
        ], ignoredFiles: [".git/index"]),
        CorpusProgram(name: "sqlite3", steps: [
            run("/usr/bin/sqlite3", "fruit.db", ".read script.sql"),
            run("/usr/bin/sqlite3", "-header", "-column", "fruit.db", "SELECT name, grams FROM fruit WHERE colour = 'red'"),
            run("/usr/bin/sqlite3", "fruit.db", "SELECT * FROM no_such_table", status: 1),
        ]),
        CorpusProgram(name: "tar czf / tar xzf", steps: [
            run("/bin/tar", "--sort=name", "--mtime=@0", "--owner=0", "--group=0", "--numeric-owner",
                "--use-compress-program=/bin/gzip -n", "-cf", "tree.tar.gz", "tree"),
            run("/bin/tar", "-tvzf", "tree.tar.gz"),
            run("/bin/tar", "-xzf", "tree.tar.gz", "--one-top-level=extracted"),
        ]),
        CorpusProgram(name: "gzip / gunzip", steps: [
            run("/bin/gzip", "-9", "-n", "-k", "data.csv"),
            run("/bin/gzip", "-l", "data.csv.gz"),
            run("/bin/gunzip", "-c", "data.csv.gz"),
            run("/bin/gzip", "-t", "no-such-file.gz", status: 1),
        ]),
        CorpusProgram(name: "awk", steps: [run("/usr/bin/mawk", "-F", ",", """
            { total[$3] += $2; rows++ }
            END { printf "%d rows\\n", rows; split("de es fr it", keys, " "); for (i = 1; i <= 4; i++) printf "%s %d\\n", keys[i], total[keys[i]] }
            """, "data.csv")]),
        CorpusProgram(name: "sed", steps: [
            run("/bin/sed", "-E", "-e", "s/([a-z]+),([0-9]+),([a-z]+)/\\3: \\1 (\\2)/", "-e", "/^it/d", "data.csv"),
            run("/bin/sed", "-i.bak", "s/dog/cat/g", "words.txt"),
        ]),
        CorpusProgram(name: "grep", steps: [
            run("/bin/grep", "-n", "-E", "fox|dog", "words.txt"),
            run("/bin/grep", "-c", "no such words", "words.txt", status: 1),
            run("/bin/grep", "-r", "-l", "--include=*.txt", "second", "tree"),
        ]),
        CorpusProgram(name: "find", steps: [
            run("/usr/bin/find", "tree", "-type", "f", "-name", "*.txt", "-printf", "%p %s\\n"),
            run("/usr/bin/find", "tree", "-name", "*.c", "-exec", "/usr/bin/wc", "-l", "{}", "+"),
        ]),
        CorpusProgram(name: "xargs", steps: [run("/usr/bin/xargs", "-a", "a.txt", "-n", "2", "/bin/echo", "items:")]),
        CorpusProgram(name: "diff", steps: [
            run("/usr/bin/diff", "-u", "--label", "a.txt", "--label", "b.txt", "a.txt", "b.txt", status: 1),
            run("/usr/bin/diff", "-q", "a.txt", "a.txt"),
        ]),
    ]

    static let coreutils: [CorpusProgram] = [
        CorpusProgram(name: "sort", steps: [run("/usr/bin/sort", "-t", ",", "-k", "3,3", "-k", "2,2nr", "data.csv")]),
        CorpusProgram(name: "uniq", steps: [run("/usr/bin/uniq", "-c", "sorted.txt")]),
        CorpusProgram(name: "wc", steps: [run("/usr/bin/wc", "words.txt", "data.csv", "a.txt")]),
        CorpusProgram(name: "sha256sum", steps: [run("/usr/bin/sha256sum", "hello.c", "data.csv", "words.txt")]),
        CorpusProgram(name: "seq", steps: [run("/usr/bin/seq", "-w", "0", "7", "200"), run("/usr/bin/seq", "-s", ",", "1.5", "0.25", "3")]),
        CorpusProgram(name: "od", steps: [run("/usr/bin/od", "-A", "x", "-t", "x1z", "-N", "96", "hello.c")]),
        CorpusProgram(name: "base64", steps: [run("/usr/bin/base64", "-w", "60", "words.txt")]),
        CorpusProgram(name: "cp / ls", steps: [
            run("/bin/cp", "-r", "tree", "copy"),
            run("/bin/ls", "-R", "copy"),
            run("/bin/ls", "-ln", "--time-style=+", "copy/docs"),
        ]),
    ]
}
