-- Rejections are kept masked (issue 12): those stored before are masked here the way
-- shared/privacy.py masks new ones (mobile numbers, fixed lines, the value of every "name" and "address").
UPDATE rejection SET body_excerpt = regexp_replace(regexp_replace(regexp_replace(body_excerpt,
    '(1\d{2})[\s-]?\d{4}[\s-]?(\d{4})', '\1****\2', 'g'),
    '(0\d{2,3})[\s-]?\d{3,4}[\s-]?(\d{4})', '\1-****\2', 'g'),
    '("(?:name|address)"\s*:\s*")(.)[^"]*"', '\1\2**"', 'g');
