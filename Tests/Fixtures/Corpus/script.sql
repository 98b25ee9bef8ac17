CREATE TABLE fruit (name TEXT PRIMARY KEY, colour TEXT, grams INTEGER);
INSERT INTO fruit VALUES ('apple', 'red', 180), ('banana', 'yellow', 120), ('cherry', 'red', 8),
    ('kiwi', 'brown', 75), ('lemon', 'yellow', 100), ('plum', 'purple', 60);
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 5000)
    INSERT INTO fruit SELECT 'grape' || i, 'green', i % 7 FROM n;
CREATE INDEX fruit_colour ON fruit (colour);
SELECT colour, count(*), sum(grams) FROM fruit GROUP BY colour ORDER BY colour;
SELECT name FROM fruit WHERE grams > 90 ORDER BY grams DESC;
SELECT printf('%.3f', avg(length(name))) FROM fruit;
SELECT sqlite_version() IS NOT NULL;
