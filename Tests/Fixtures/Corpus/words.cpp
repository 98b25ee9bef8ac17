// Counts words with the standard containers: operator new and delete all the way.
#include <algorithm>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

struct Entry {
    std::string word;
    int count;
};

int main() {
    std::ifstream input("words.txt");
    std::map<std::string, int> counts;
    std::string word;
    while (input >> word) counts[word]++;
    std::vector<std::unique_ptr<Entry>> entries;
    for (const auto &[text, count] : counts) entries.push_back(std::make_unique<Entry>(Entry{text, count}));
    std::stable_sort(entries.begin(), entries.end(), [](const auto &a, const auto &b) { return a->count > b->count; });
    std::ostringstream summary;
    for (size_t i = 0; i < std::min<size_t>(5, entries.size()); i++) summary << entries[i]->word << '=' << entries[i]->count << '\n';
    std::cout << summary.str() << "distinct " << entries.size() << std::endl;
    new std::vector<int>(100000, 7); // kept until exit, on purpose
    return 0;
}
