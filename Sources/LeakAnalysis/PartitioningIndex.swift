extension RandomAccessCollection {
    /// The first index whose element belongs to the second part, for a collection already split
    /// in two by `belongsInSecondPart` (false for every element before that index, true from it
    /// on): a binary search, O(log n). `endIndex` when no element does.
    package func partitioningIndex(where belongsInSecondPart: (Element) -> Bool) -> Index {
        var low = startIndex
        var count = self.count
        while count > 0 {
            let half = count / 2
            let middle = index(low, offsetBy: half)
            if belongsInSecondPart(self[middle]) {
                count = half
            } else {
                low = index(after: middle)
                count -= half + 1
            }
        }
        return low
    }
}
