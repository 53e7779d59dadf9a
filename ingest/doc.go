// Package ingest turns knowledge uploads into chunks ready to embed.
//
// Loading (LoadPath for files, folders and .zip archives; LoadReader for an
// HTTP upload) reads:
//
//   - FAQ entries from CSV (header row; columns question, answer, id,
//     intent, tags, language, title, url, renamed with LoadOptions.Columns),
//     from a JSON array or from JSON Lines with the same keys;
//   - articles from Markdown, HTML and plain text, cleaned into a light
//     Markdown Body ("#" headings, fenced code, paragraphs), and from PDF
//     files, one "Page N" section a page under the file's outline headings
//     (pdf.go);
//   - resolved conversations from JSON Lines ({"id", "messages": [{"role",
//     "text", "at"}], "resolution", ...}), with e-mail addresses, phone,
//     card and IBAN numbers masked (MaskPII) unless KeepPII is set.
//
// Every problem a user can fix is an *InputError naming the file, the line
// and the field; limit breaches also match ErrTooLarge or ErrTooMany. Files
// and archives are read through byte limits that count what is actually
// read, so neither a lying size nor a zip bomb gets past them.
//
// Chunking (Chunker) never cuts FAQ entries and conversations (a question
// chunk, and an answer chunk when there is an answer) and cuts articles by
// section and paragraph into chunks of at most MaxTokens tokens
// (o200k_base), each starting with a "Title — Section > Subsection" line.
// The pipeline (pipeline.go) embeds and stores the chunks.
package ingest
