// Command genfreq writes stemfreq.txt, the word-frequency table behind the
// local embedder's built-in IDF weighting, from WordNet 3.0's cntlist.rev
// (Debian package wordnet-base; Princeton WordNet licence, which allows
// redistribution with its notice, see ../README.md). cntlist.rev counts how
// often each word sense was tagged in the SemCor corpus (part of the Brown
// corpus, general American English); this sums the counts per Snowball stem.
//
//	apt-get install wordnet-base
//	go run ./retrieval/localdata/genfreq > retrieval/localdata/stemfreq.txt
package main

import (
	"bufio"
	"cmp"
	"flag"
	"fmt"
	"log"
	"os"
	"slices"
	"strconv"
	"strings"

	"github.com/kljensen/snowball/english"
)

func main() {
	path := flag.String("cntlist", "/usr/share/wordnet/cntlist.rev", "WordNet cntlist.rev")
	minCount := flag.Int("min", 2, "smallest count written")
	flag.Parse()
	f, err := os.Open(*path)
	if err != nil {
		log.Fatal(err)
	}
	defer f.Close()
	counts := map[string]int{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		// "sense_key sense_number tag_count", sense_key = "lemma%...".
		fields := strings.Fields(sc.Text())
		if len(fields) != 3 {
			continue
		}
		lemma, _, _ := strings.Cut(fields[0], "%")
		n, err := strconv.Atoi(fields[2])
		if err != nil || strings.ContainsAny(lemma, "_-'.") || !isLetters(lemma) {
			continue
		}
		if semcorNamedEntity[lemma] {
			continue
		}
		counts[english.Stem(lemma, true)] += n
	}
	if err := sc.Err(); err != nil {
		log.Fatal(err)
	}
	type row struct {
		stem  string
		count int
	}
	var rows []row
	total := 0
	for s, n := range counts {
		total += n
		if n >= *minCount {
			rows = append(rows, row{s, n})
		}
	}
	slices.SortFunc(rows, func(a, b row) int {
		return cmp.Or(cmp.Compare(b.count, a.count), strings.Compare(a.stem, b.stem))
	})
	w := bufio.NewWriter(os.Stdout)
	defer w.Flush()
	fmt.Fprint(w, header)
	fmt.Fprintf(w, "# total %d\n", total)
	for _, r := range rows {
		fmt.Fprintf(w, "%s %d\n", r.stem, r.count)
	}
}

// SemCor tags every proper name with the sense person, group or location, so
// their counts say nothing about how common the words are.
var semcorNamedEntity = map[string]bool{"person": true, "group": true, "location": true}

func isLetters(s string) bool {
	for _, c := range s {
		if c < 'a' || c > 'z' {
			return false
		}
	}
	return s != ""
}

const header = `# Stem frequencies in SemCor (general English), from WordNet 3.0 cntlist.rev;
# made by retrieval/localdata/genfreq. Lines: "stem count".
# Derived from WordNet 3.0, Copyright 2006 by Princeton University. All rights
# reserved. Used under the WordNet 3.0 licence, reproduced in full with its
# disclaimer in retrieval/localdata/README.md.
`
