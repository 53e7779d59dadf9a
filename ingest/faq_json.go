package ingest

// loadFAQJSON reads FAQ entries from a JSON array of objects or from JSON
// Lines. Keys are the field names (or the names Columns maps them to),
// matched case-insensitively; other keys are ignored. "tags" may be an
// array of strings or one string separated by ";", "," or "|".
func loadFAQJSON(data []byte, name string, opts LoadOptions, c *collector) error {
	text, err := requireText(data, name)
	if err != nil {
		return err
	}
	names := columnNames(opts.Columns)
	entries := 0
	err = readJSONObjects(text, name, func(obj jsonObject) error {
		entries++
		e, err := faqEntryFromJSON(obj, name, names)
		if err != nil {
			return err
		}
		d, err := e.document()
		if err != nil {
			return err
		}
		return c.add(d)
	})
	if err != nil {
		return err
	}
	if entries == 0 {
		return inputErrorf(name, "", "no entries")
	}
	return nil
}

func faqEntryFromJSON(obj jsonObject, name string, names map[string]string) (faqEntry, error) {
	e := faqEntry{origin: at(name, obj.line), values: make(map[string]string, len(names)), columns: names}
	for field, key := range names {
		raw, ok := obj.fields[key]
		if !ok {
			continue
		}
		if field == "tags" {
			tags, err := jsonStrings(raw)
			if err != nil {
				return faqEntry{}, inputErrorf(e.origin, field, "%v", err)
			}
			e.tags = nonNil(tags)
			continue
		}
		s, err := jsonString(raw)
		if err != nil {
			return faqEntry{}, inputErrorf(e.origin, field, "%v", err)
		}
		e.values[field] = s
	}
	return e, nil
}

// nonNil makes an absent list distinguishable from an empty one.
func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
