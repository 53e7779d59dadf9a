package retrieval

// Constant tables of the local embedder. They are part of the model: editing
// any of them changes vectors, so it must change LocalModel.

// localStopWords are function words and greetings: present in almost every
// question, they say little about which answer fits, so they weigh
// localConfig.stopWeight (a built-in stand-in for a low IDF). Source: the
// Snowball English stop-word list (as in github.com/kljensen/snowball,
// english.IsStopWord; BSD/MIT), minus the question words and negations moved
// to localCueWords, plus contraction halves and chat greetings added by hand.
var localStopWords = wordSet(
	"a", "about", "above", "against", "all", "am", "an", "and", "any", "are",
	"as", "at", "be", "because", "been", "being", "below", "between", "both",
	"but", "by", "can", "could", "did", "do", "does", "doing", "down",
	"during", "each", "for", "from", "further", "had", "has", "have",
	"having", "he", "her", "here", "hers", "herself", "him", "himself", "his",
	"i", "if", "in", "into", "is", "it", "its", "itself", "just", "me",
	"my", "myself", "of", "off", "on", "once", "or", "other", "our",
	"ours", "ourselves", "out", "over", "own", "s", "same", "she", "should",
	"so", "some", "such", "t", "than", "that", "the", "their", "theirs",
	"them", "themselves", "then", "there", "these", "they", "this", "those",
	"through", "to", "under", "until", "up", "was", "we", "were", "will",
	"with", "would", "you", "your", "yours", "yourself", "yourselves",
	"m", "re", "ve", "ll", "d", "im", "ive", "youre",
	"hi", "hello", "hey", "please", "pls", "plz", "thanks", "thank", "thx",
	"ok", "okay", "u", "ur",
)

// localCommonWords are very common English verbs and vague words that carry
// little of a question's topic ("I need to know how to get ..."); they weigh
// localConfig.commonWeight. Chosen by hand.
var localCommonWords = wordSet(
	"get", "got", "getting", "gets", "make", "made", "want", "wanted", "wants",
	"need", "needed", "needs", "know", "tell", "let", "go", "going", "see",
	"use", "used", "using", "like", "also", "may", "might", "must", "shall",
	"one", "way", "able", "anything", "something", "someone", "anyone",
	"everything", "there", "much", "many", "possible", "help", "sure", "really",
	"think", "seems", "seem", "would", "could", "just", "any", "still",
)

// localCueWords are question words, negations and a few time words. They are
// common, yet often all that separates two intents ("why was I charged" vs
// "how much is the charge", "has not arrived" vs "has arrived"), so they weigh
// localConfig.cueWeight, between stop words and content words. Chosen by hand.
var localCueWords = wordSet(
	"how", "why", "when", "where", "what", "which", "who", "whom", "whose",
	"not", "no", "nor", "never", "nothing", "without", "cannot",
	"again", "still", "yet", "already", "before", "after",
	"more", "most", "few", "too", "very", "only",
)

// localContractions spells out contractions written without an apostrophe
// (localSplitWords has already removed it), so "don't", "dont" and "do not" meet.
// Ambiguous ones ("id", "ill", "were", "well", "its") are left alone.
var localContractions = map[string][]string{
	"dont": {"do", "not"}, "doesnt": {"does", "not"}, "didnt": {"did", "not"},
	"cant": {"can", "not"}, "cannot": {"can", "not"}, "couldnt": {"could", "not"},
	"wont": {"will", "not"}, "wouldnt": {"would", "not"}, "shouldnt": {"should", "not"},
	"isnt": {"is", "not"}, "arent": {"are", "not"}, "wasnt": {"was", "not"},
	"werent": {"were", "not"}, "havent": {"have", "not"}, "hasnt": {"has", "not"},
	"hadnt": {"had", "not"}, "aint": {"is", "not"}, "mustnt": {"must", "not"},
	"im": {"i", "am"}, "ive": {"i", "have"}, "youre": {"you", "are"},
	"theyre": {"they", "are"}, "whats": {"what", "is"}, "hows": {"how", "is"},
	"wheres": {"where", "is"}, "whys": {"why", "is"}, "thats": {"that", "is"},
	"topup": {"top", "up"}, "topups": {"top", "ups"}, "toped": {"topped"},
	"login": {"log", "in"}, "signup": {"sign", "up"},
}

// localCurrencySigns turns currency signs into words.
var localCurrencySigns = map[rune]string{
	'$': "dollar", '£': "pound", '€': "euro", '¥': "yen", '₹': "rupee",
	'₩': "won", '₽': "ruble", '₺': "lira", '₿': "bitcoin",
}

// localSynonyms groups words that customers use for the same thing; every
// word's stem is folded to the stem of the group's first word. Written by
// hand from general customer-support and payments vocabulary (not learnt from
// any data set). Keep groups to true synonyms: a wrong fold merges intents.
var localSynonyms = [][]string{
	{"refund", "reimburse", "reimbursement", "repay", "repayment", "moneyback"},
	{"fee", "charge", "charges", "charged", "surcharge", "commission", "cost"},
	{"password", "passcode", "passphrase", "pwd"},
	{"account", "acct", "acc"},
	{"money", "funds", "fund"},
	{"purchase", "buy", "bought"},
	{"phone", "mobile", "cellphone", "smartphone", "cell"},
	{"lost", "lose", "misplace", "misplaced"},
	{"stolen", "steal", "stole", "theft"},
	{"delete", "remove", "erase"},
	{"close", "terminate", "shut"},
	{"change", "update", "modify", "edit", "alter", "amend"},
	{"broken", "damaged", "cracked", "defective"},
	{"wrong", "incorrect", "mistaken"},
	{"verify", "verification", "confirm", "confirmation", "validate", "validation"},
	{"decline", "declined", "reject", "rejected", "refuse", "refused", "deny", "denied"},
	{"abroad", "overseas", "international"},
	{"problem", "issue", "trouble"},
	{"working", "functioning"},
	{"unblock", "unlock", "unfreeze"},
	{"block", "lock", "freeze", "frozen"},
	{"start", "begin"},
	{"fix", "resolve", "solve", "repair"},
	{"parcel", "package"},
	{"cash", "atm", "cashpoint"},
	{"wait", "waiting", "waited"},
	{"quick", "fast", "quickly", "rapid"},
	{"send", "sent"},
	{"receive", "received", "recieve", "recieved"},
	{"withdraw", "withdrawal", "withdrew", "withdrawn"},
}

func wordSet(words ...string) map[string]struct{} {
	m := make(map[string]struct{}, len(words))
	for _, w := range words {
		m[w] = struct{}{}
	}
	return m
}
