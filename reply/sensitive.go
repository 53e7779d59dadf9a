package reply

import (
	"regexp"
	"strings"

	"github.com/parleyhq/parley"
)

// sensitiveConcept is a topic a workspace may hand to people, recognised in
// the customer's own words in every language the engine knows, so that it
// escalates even when the knowledge has no entry on it, or has one only in
// another language.
type sensitiveConcept struct {
	// names are the words which, in an entry of the workspace's sensitive
	// list ("theft", "refund_request", "legal-complaint"), select the
	// concept.
	names []string
	// says matches a customer raising the topic, per language. The text is
	// lower-cased and stripped of accents first (see foldAccents).
	says map[string]*regexp.Regexp
}

// sensitiveConcepts are the topics recognised in questions. A sensitive
// entry that names none of them still escalates when the knowledge matches
// an answer with that intent or tag (see Decide).
var sensitiveConcepts = []sensitiveConcept{
	{
		names: []string{"legal", "lawyer", "lawsuit", "litigation", "court", "complaint", "complaints"},
		says: map[string]*regexp.Regexp{
			"en": re(`\b(lawyers?|attorneys?|solicitors?|sue|suing|lawsuit|court|legal action|small claims|consumer protection|ombudsman|trading standards)\b`),
			"de": re(`\b(anwalt|anwaltin|rechtsanwalt\w*|anwalts?|klage|klagen|verklagen|gericht\w*|rechtliche schritte|verbraucherschutz\w*|verbraucherzentrale)\b`),
			"fr": re(`\b(avocat\w*|tribunal|tribunaux|poursuites?|justice|action en justice|plainte|protection des consommateurs)\b`),
			"es": re(`\b(abogad[oa]s?|demanda(r|re|remos)?|tribunal\w*|juzgado|denuncia\w*|accion legal|acciones legales|proteccion al consumidor)\b`),
			"it": re(`\b(avvocat[oi]|tribunale|denuncia\w*|causa legale|azioni legali|giudice)\b`),
			"nl": re(`\b(advocaat|rechter|rechtszaak|aanklagen|juridische stappen|consumentenbond)\b`),
			"pt": re(`\b(advogad[oa]s?|tribunal|processar|processo judicial|acao judicial|procon)\b`),
		},
	},
	{
		names: []string{"chargeback", "chargebacks", "dispute", "disputes"},
		says: map[string]*regexp.Regexp{
			"en": re(`\b(charge ?backs?|dispute[ds]? (the|this|a|my)? ?(payment|charge|transaction)|disputing (the|this|a|my)? ?(payment|charge|transaction)|reverse[ds]? the (payment|charge))\b`),
			"de": re(`\b(ruckbuchung\w*|zuruckbuch\w*|zahlung (zuruck|widerruf)\w*|lastschrift (zuruck|widerspr)\w*|widerspruch gegen die (zahlung|abbuchung))`),
			"fr": re(`\b(retrofacturation|contester le (paiement|prelevement|debit)|opposition (sur|au) (le )?(paiement|prelevement))\b`),
			"es": re(`\b(contracargos?|disputar? (el|un) (cargo|pago)|reclamar el cargo (al|a mi) banco|anular el (cargo|pago))\b`),
			"it": re(`\b(chargeback|storno|contestare l'?addebito|contestazione dell'?addebito)\b`),
			"nl": re(`\b(terugboeking|betaling (betwisten|terugdraaien)|storneren)\b`),
			"pt": re(`\b(estorno|contestar a (cobranca|compra)|chargeback)\b`),
		},
	},
	{
		names: []string{"theft", "stolen", "robbery", "burglary"},
		says: map[string]*regexp.Regexp{
			"en": re(`\b(stolen|theft|stole|robbed|robbery|burglary|burgled|nicked)\b`),
			"de": re(`\b(gestohlen|diebstahl|geklaut|geraubt|einbruch|dieb\w*)\b`),
			"fr": re(`\b(vole|volee|voles|volees|cambriol\w*|voleur\w*)\b`),
			"es": re(`\b(robad[oa]s?|robo|robaron|hurto|me han robado)\b`),
			"it": re(`\b(rubat[oaie]|furto|derubat[oaie])\b`),
			"nl": re(`\b(gestolen|diefstal|beroofd|inbraak)\b`),
			"pt": re(`\b(roubad[oa]s?|roubo|furtad[oa]s?|furto)\b`),
		},
	},
	{
		names: []string{"fraud", "scam", "unauthorized", "unauthorised", "hacked", "compromised", "security"},
		says: map[string]*regexp.Regexp{
			"en": re(`\b(fraud\w*|scam\w*|hacked|unauthori[sz]ed|didn'?t (make|authori[sz]e) (this|that|these|the)|identity theft|phishing|sim swap\w*)\b` +
				`|\b(someone|somebody|a stranger)\b.{0,40}\b(in my name|without my (permission|consent|knowledge))`),
			"de": re(`\b(betrug|betrug\w*|betrogen|gehackt|nicht autorisiert|unberechtigt\w*|phishing|identitatsdiebstahl)\b`),
			"fr": re(`\b(fraude\w*|arnaque\w*|escroquerie|pirate|non autorise\w*|hameconnage|usurpation d'identite|sans mon (autorisation|accord|consentement))\b`),
			"es": re(`\b(fraude\w*|estafa\w*|hackead[oa]|no autorizad[oa]s?|suplantacion)\b`),
			"it": re(`\b(frode|truffa\w*|truffat[oaie]|hackerat[oa]|non autorizzat[oaie]|furto d'identita|senza il mio (consenso|permesso))\b`),
			"nl": re(`\b(fraude|oplichting|opgelicht|gehackt|niet geautoriseerd)\b`),
			"pt": re(`\b(fraude|golpe|hackead[oa]|nao autorizad[oa])\b`),
		},
	},
	{
		names: []string{"delete_account", "account_deletion", "data_deletion", "erasure", "erase", "deletion"},
		says: map[string]*regexp.Regexp{
			"en": re(`\b(delete|erase|remove|close)\b.{0,25}\b(account|personal data|my data|data you hold)\b|\bright to be forgotten\b`),
			"de": re(`\b(konto|account|kundenkonto|daten)\b.{0,25}\b(loschen|entfernen|schliessen)\b|\b(losche|loschen sie)\b.{0,25}\b(konto|account|daten)\b|\brecht auf vergessenwerden\b`),
			"fr": re(`\b(supprime[rz]?|efface[rz]?|ferme[rz]?)\b.{0,25}\b(mon compte|mes donnees|donnees personnelles)\b|\bdroit a l'oubli\b`),
			"es": re(`\b(eliminar|borrar|cerrar|suprimir)\b.{0,25}\b(mi cuenta|mis datos|datos personales)\b|\bderecho al olvido\b`),
			"it": re(`\b(cancella(re|te)?|elimina(re|te)?|chiud(ere|ete))\b.{0,25}\b(il mio account|i miei dati|dati personali)\b|\bdiritto all'oblio\b`),
			"nl": re(`\b(account|gegevens)\b.{0,25}\b(verwijderen|wissen|opheffen)\b|\brecht om vergeten te worden\b`),
			"pt": re(`\b(apagar|excluir|eliminar|encerrar)\b.{0,25}\b(minha conta|meus dados|dados pessoais)\b`),
		},
	},
	{
		names: []string{"privacy", "gdpr", "data_request", "data_protection", "personal_data"},
		says: map[string]*regexp.Regexp{
			"en": re(`\b(gdpr|data protection|subject access request|data breach)\b`),
			"de": re(`\b(dsgvo|datenschutzbehorde|datenleck|auskunftsersuchen)\b`),
			"fr": re(`\b(rgpd|cnil|fuite de donnees)\b`),
			"es": re(`\b(rgpd|lopd|aepd|filtracion de datos)\b`),
			"it": re(`\b(gdpr|garante della privacy|violazione dei dati)\b`),
			"nl": re(`\b(avg|autoriteit persoonsgegevens|datalek)\b`),
			"pt": re(`\b(rgpd|lgpd|vazamento de dados)\b`),
		},
	},
	{
		names: []string{"refund_request", "refund_demand", "money_back", "refund_dispute"},
		says: map[string]*regexp.Regexp{
			"en": re(`\b(want|demand|need|expect|give me)\b.{0,20}\bmoney back\b|\brefund me\b|\b(demand|insist on)\b.{0,10}\brefund\b|\bfull refund\b`),
			"de": re(`\b(geld zuruck|mein geld wieder|erstatten sie mir|fordere\b.{0,20}\b(ruckerstattung|erstattung)|verlange\b.{0,20}\b(ruckerstattung|erstattung|geld))`),
			"fr": re(`\b(remboursez[- ]moi|je veux (etre rembourse\w*|mon argent)|exige\b.{0,20}\bremboursement|remboursement (integral|complet))`),
			"es": re(`\b(devuelvan(me)? (el|mi) dinero|quiero (mi dinero|que me devuelvan)|exijo\b.{0,20}\breembolso|reembolso (completo|total|integro))`),
			"it": re(`\b(rivoglio i (miei )?soldi|rimborsatemi|pretendo\b.{0,20}\brimborso|rimborso (totale|completo|integrale))`),
			"nl": re(`\b(mijn geld terug|geld terug(gestort)?|eis\b.{0,20}\bterugbetaling|volledige terugbetaling)\b`),
			"pt": re(`\b(meu dinheiro de volta|quero (o )?reembolso|exijo\b.{0,20}\breembolso|reembolso (total|integral))`),
		},
	},
	{
		names: []string{"injury", "injuries", "accident", "accidents", "safety", "harm", "hurt"},
		says: map[string]*regexp.Regexp{
			"en": re(`\b(injur\w*|accident|hurt myself|got hurt|was hurt|hospital|broke my (arm|leg|wrist|collarbone)|bleeding|fell off)\b`),
			"de": re(`\b(verletz\w*|unfall|krankenhaus|gesturzt|sturz|gebrochen)\b`),
			"fr": re(`\b(blesse\w*|blessure\w*|accident|hopital)\b`),
			"es": re(`\b(herid[oa]s?|lesion\w*|lesionad[oa]|accidente|hospital|me cai|caida)\b`),
			"it": re(`\b(ferit[oa]|lesion\w*|incidente|ospedale|sono caduto|caduta)\b`),
			"nl": re(`\b(gewond|letsel|ongeluk|ziekenhuis|gevallen)\b`),
			"pt": re(`\b(ferid[oa]|lesao|acidente|hospital|cai da)\b`),
		},
	},
	{
		names: []string{"harassment", "harassed", "stalking", "threats", "abuse", "abusive"},
		says: map[string]*regexp.Regexp{
			"en": re(`\b(harass\w*|stalk(s|ed|ing|er)|threaten\w*|threats?|abusive (calls?|messages?|texts?)|intimidat\w*|bullying|bullied)\b`),
			"de": re(`\b(belastig\w*|stalk\w*|bedroh\w*|drohung\w*|droht|nachstell\w*|terror ?anrufe?|mobbing)\b`),
			"fr": re(`\b(harcel\w*|harcele\w*|menace\w*|menacant\w*|intimid\w*|traque\w*)\b`),
			"es": re(`\b(acos\w*|amenaza\w*|amenazante\w*|intimid\w*|hostiga\w*)\b`),
			"it": re(`\b(molest\w*|minacc\w*|perseguit\w*|persecuzion\w*|stalking|intimidazion\w*)\b`),
			"nl": re(`\b(lastigvall\w*|lastiggevallen|bedreig\w*|intimidatie|stalk\w*)\b`),
			"pt": re(`\b(assedi\w*|ameaca\w*|perseguid\w*|perseguicao|intimida\w*)\b`),
		},
	},
	{
		names: []string{"emergency", "emergencies", "medical", "medical_emergency", "health"},
		says: map[string]*regexp.Regexp{
			"en": re(`\b(ambulance|heart attack|stroke|unconscious|not breathing|isn'?t breathing|can'?t breathe|collapsed|overdose|suicid\w*|kill (myself|himself|herself)|life.threatening|medical emergency|bleeding badly|seizure)\b`),
			"de": re(`\b(krankenwagen|rettungswagen|notarzt|herzinfarkt|schlaganfall|bewusstlos|atmet nicht|keine luft|zusammengebrochen|uberdosis|suizid\w*|selbstmord\w*)\b`),
			"fr": re(`\b(ambulance|samu|crise cardiaque|infarctus|avc|inconscient\w*|ne respire (plus|pas)|evanoui\w*|effondre\w*|overdose|suicid\w*|urgence medicale|malaise)\b`),
			"es": re(`\b(ambulancia|infarto|ataque al corazon|inconsciente|no respira|desmay\w*|sobredosis|suicid\w*|urgencia medica|emergencia medica)\b`),
			"it": re(`\b(ambulanza|infarto|attacco di cuore|ictus|svenut[oa]|privo di sensi|priva di sensi|non respira|overdose|suicid\w*|emergenza medica|sta male|malore)\b`),
			"nl": re(`\b(ambulance|hartaanval|beroerte|bewusteloos|ademt niet|overdosis|zelfmoord\w*|suicid\w*|medisch noodgeval)\b`),
			"pt": re(`\b(ambulancia|infarto|ataque cardiaco|avc|inconsciente|nao respira|desmai\w*|overdose|suicid\w*|emergencia medica)\b`),
		},
	},
}

func re(s string) *regexp.Regexp { return regexp.MustCompile(s) }

// sensitiveInText returns the entry of the workspace's sensitive list that
// the texts raise in their own words, in English or one of the
// workspace's languages, or "" when none does.
func sensitiveInText(s parley.WorkspaceSettings, texts ...string) string {
	if len(s.Sensitive) == 0 {
		return ""
	}
	langs := append([]string{"en"}, s.Languages...)
	for _, entry := range s.Sensitive {
		for _, c := range sensitiveConcepts {
			if !c.selectedBy(entry) {
				continue
			}
			for _, t := range texts {
				t = foldAccents(strings.ToLower(t))
				for _, lang := range langs {
					if re, ok := c.says[lang]; ok && re.MatchString(t) {
						return entry
					}
				}
			}
		}
	}
	return ""
}

// selectedBy reports whether a sensitive-list entry names the concept: the
// whole entry, or one of its words ("legal" in "legal_complaint").
func (c sensitiveConcept) selectedBy(entry string) bool {
	e := strings.ToLower(strings.TrimSpace(entry))
	words := strings.FieldsFunc(e, func(r rune) bool { return r == '_' || r == '-' || r == ' ' || r == '/' })
	for _, n := range c.names {
		if n == e {
			return true
		}
		for _, w := range words {
			if n == w {
				return true
			}
		}
	}
	return false
}
