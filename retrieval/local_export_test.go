package retrieval

// Test hooks: named variants of the local embedder's configuration, compared
// by TestLocalVariantsBanking77. Each variant is the default with one knob
// changed (an ablation); "default" is LocalModel itself.

// LocalVariants lists the variant names in the order they are reported.
func LocalVariants() []string {
	names := make([]string, len(localVariants))
	for i, v := range localVariants {
		names[i] = v.name
	}
	return names
}

// NewLocalVariant returns the embedder with the named variant applied.
func NewLocalVariant(name string) *Local {
	cfg := defaultLocalConfig()
	for _, v := range localVariants {
		if v.name == name {
			v.apply(&cfg)
			return &Local{cfg: cfg}
		}
	}
	panic("unknown variant " + name)
}

var localVariants = []struct {
	name  string
	apply func(*localConfig)
}{
	{"default", func(c *localConfig) {}},
	{"no char n-grams", func(c *localConfig) { c.charWeight = 0 }},
	{"no bigrams", func(c *localConfig) { c.bigramWeight = 0 }},
	{"no synonyms", func(c *localConfig) { c.synonyms = false }},
	{"wordnet 0.2", func(c *localConfig) { c.wordnetWeight = 0.2 }},
	{"wordnet 0.4", func(c *localConfig) { c.wordnetWeight = 0.4 }},
	{"no general-English IDF", func(c *localConfig) { c.idfScale = 0 }},
	{"no common-word tier", func(c *localConfig) { c.commonWeight = 0 }},
	{"no word tiers (stop=cue=common=1)", func(c *localConfig) { c.stopWeight, c.cueWeight, c.commonWeight = 1, 1, 1 }},
	{"char 3-5-grams", func(c *localConfig) { c.minN = 3 }},
	{"char weight 1.0", func(c *localConfig) { c.charWeight = 1 }},
	{"dims 512", func(c *localConfig) { c.dims = 512 }},
	{"dims 2000", func(c *localConfig) { c.dims = 2000 }},
}
