package embed

import (
	"fmt"
	"math"
	"sort"
	"strconv"

	"ft/internal/stats"
)

// Pairwise similarity functions of ST's evaluators, by the names ST reports.
var similarityFns = []struct {
	name string
	fn   func(a, b []float64) float64
}{
	{"cosine", func(a, b []float64) float64 {
		return dot(a, b) / (math.Max(math.Sqrt(dot(a, a)), normEps) * math.Max(math.Sqrt(dot(b, b)), normEps))
	}},
	{"euclidean", func(a, b []float64) float64 {
		s := 0.0
		for i := range a {
			s += (a[i] - b[i]) * (a[i] - b[i])
		}
		return -math.Sqrt(s)
	}},
	{"manhattan", func(a, b []float64) float64 {
		s := 0.0
		for i := range a {
			s += math.Abs(a[i] - b[i])
		}
		return -s
	}},
	{"dot", dot},
}

// EvaluateSimilarity is ST's EmbeddingSimilarityEvaluator on precomputed
// embeddings: Pearson and Spearman correlation between the gold scores and
// the similarity of each (e1_i, e2_i) pair, for cosine, euclidean, manhattan
// and dot (keys "pearson_cosine", "spearman_cosine", ...), as ST reports with
// similarity_fn_names set to all four. Spearman ranks ties by their average
// rank (scipy.stats.spearmanr). A constant input gives NaN, as scipy does.
func EvaluateSimilarity(e1, e2 Matrix, gold []float64) (map[string]float64, error) {
	if err := sameShape("similarity evaluator", e1, e2); err != nil {
		return nil, err
	}
	if len(gold) != e1.Rows {
		return nil, fmt.Errorf("embed: similarity evaluator: %d gold scores for %d pairs", len(gold), e1.Rows)
	}
	if e1.Rows < 2 {
		return nil, fmt.Errorf("embed: similarity evaluator needs at least 2 pairs, got %d", e1.Rows)
	}
	out := map[string]float64{}
	s := make([]float64, e1.Rows)
	for _, f := range similarityFns {
		for i := range s {
			s[i] = f.fn(e1.Row(i), e2.Row(i))
		}
		out["pearson_"+f.name] = Pearson(gold, s)
		out["spearman_"+f.name] = Spearman(gold, s)
	}
	return out, nil
}

// Pearson is the Pearson correlation of x and y (scipy.stats.pearsonr's
// statistic, clipped to [-1, 1]).
func Pearson(x, y []float64) float64 { return stats.Pearson(x, y) }

// Spearman is the Pearson correlation of the average ranks of x and y.
func Spearman(x, y []float64) float64 { return stats.Spearman(x, y) }

// RetrievalConfig holds the cut-offs of ST's InformationRetrievalEvaluator;
// DefaultRetrievalConfig has ST's defaults.
type RetrievalConfig struct {
	MRRAtK             []int
	NDCGAtK            []int
	AccuracyAtK        []int
	PrecisionRecallAtK []int
	MAPAtK             []int
}

// DefaultRetrievalConfig: MRR@10, NDCG@10, accuracy and precision/recall at
// 1, 3, 5, 10, MAP@100.
func DefaultRetrievalConfig() RetrievalConfig {
	return RetrievalConfig{
		MRRAtK:             []int{10},
		NDCGAtK:            []int{10},
		AccuracyAtK:        []int{1, 3, 5, 10},
		PrecisionRecallAtK: []int{1, 3, 5, 10},
		MAPAtK:             []int{100},
	}
}

// EvaluateRetrieval is ST's InformationRetrievalEvaluator with cosine
// similarity on precomputed embeddings: queries (one row per queryIDs entry)
// against the corpus (one row per corpusIDs entry), relevant mapping a query
// id to its relevant corpus ids. Queries without relevant documents are
// skipped, as ST does. Keys are ST's: "cosine_accuracy@1",
// "cosine_precision@1", "cosine_recall@1", "cosine_mrr@10", "cosine_ndcg@10",
// "cosine_map@100". Exactly tied scores are ranked by corpus id, larger
// first (see the package doc).
func EvaluateRetrieval(cfg RetrievalConfig, queryIDs []string, queries Matrix, corpusIDs []string, corpus Matrix, relevant map[string][]string) (map[string]float64, error) {
	maxK, err := checkRetrieval(cfg, queryIDs, queries, corpusIDs, corpus)
	if err != nil {
		return nil, err
	}
	qn, cn := Normalize(queries), Normalize(corpus)
	var (
		sums    = newRetrievalSums()
		hits    = make([]hit, 0, maxK+1)
		isRel   = map[string]bool{}
		limited []hit
	)
	for q, qid := range queryIDs {
		rel := relevant[qid]
		clear(isRel)
		for _, id := range rel {
			isRel[id] = true
		}
		if len(isRel) == 0 {
			continue
		}
		limited = topHits(qn.Row(q), cn, corpusIDs, maxK, hits[:0])
		sums.add(cfg, limited, isRel)
	}
	if sums.nq == 0 {
		return nil, fmt.Errorf("embed: retrieval evaluator: no query has a relevant document")
	}
	return sums.metrics(cfg), nil
}

// checkRetrieval checks EvaluateRetrieval's arguments and returns the
// largest cut-off.
func checkRetrieval(cfg RetrievalConfig, queryIDs []string, queries Matrix, corpusIDs []string, corpus Matrix) (int, error) {
	if err := queries.check("retrieval queries"); err != nil {
		return 0, err
	}
	if err := corpus.check("retrieval corpus"); err != nil {
		return 0, err
	}
	if len(queryIDs) != queries.Rows || len(corpusIDs) != corpus.Rows {
		return 0, fmt.Errorf("embed: retrieval evaluator: %d query ids for %d query rows, %d corpus ids for %d corpus rows", len(queryIDs), queries.Rows, len(corpusIDs), corpus.Rows)
	}
	if queries.Cols != corpus.Cols {
		return 0, fmt.Errorf("embed: retrieval evaluator: queries have %d dimensions, the corpus %d", queries.Cols, corpus.Cols)
	}
	maxK := 0
	for _, ks := range [][]int{cfg.MRRAtK, cfg.NDCGAtK, cfg.AccuracyAtK, cfg.PrecisionRecallAtK, cfg.MAPAtK} {
		if len(ks) == 0 {
			return 0, fmt.Errorf("embed: retrieval evaluator: every cut-off list needs at least one k")
		}
		for _, k := range ks {
			if k <= 0 {
				return 0, fmt.Errorf("embed: retrieval evaluator: cut-off %d must be positive", k)
			}
			maxK = max(maxK, k)
		}
	}
	if err := uniqueIDs("query", queryIDs); err != nil {
		return 0, err
	}
	if err := uniqueIDs("corpus", corpusIDs); err != nil {
		return 0, err
	}
	return maxK, nil
}

// retrievalSums are the retrieval metrics summed over the queries with a
// relevant document (nq), each by cut-off k.
type retrievalSums struct {
	nq                              int
	acc, prec, rec, mrr, ndcg, mapK map[int]float64
}

func newRetrievalSums() *retrievalSums {
	return &retrievalSums{acc: map[int]float64{}, prec: map[int]float64{}, rec: map[int]float64{},
		mrr: map[int]float64{}, ndcg: map[int]float64{}, mapK: map[int]float64{}}
}

// add scores one query's ranked hits (best first, at most the largest
// cut-off) against its relevant documents isRel.
func (m *retrievalSums) add(cfg RetrievalConfig, limited []hit, isRel map[string]bool) {
	acc, prec, rec, mrr, ndcg, mapK := m.acc, m.prec, m.rec, m.mrr, m.ndcg, m.mapK
	m.nq++
	top := func(k int) []hit { return limited[:min(k, len(limited))] }
	nrel := float64(len(isRel))
	for _, k := range cfg.AccuracyAtK {
		for _, h := range top(k) {
			if isRel[h.id] {
				acc[k]++
				break
			}
		}
	}
	for _, k := range cfg.PrecisionRecallAtK {
		n := 0.0
		for _, h := range top(k) {
			if isRel[h.id] {
				n++
			}
		}
		prec[k] += n / float64(k)
		rec[k] += n / nrel
	}
	for _, k := range cfg.MRRAtK {
		for r, h := range top(k) {
			if isRel[h.id] {
				mrr[k] += 1 / float64(r+1)
				break
			}
		}
	}
	for _, k := range cfg.NDCGAtK {
		dcg, idcg := 0.0, 0.0
		for r, h := range top(k) {
			if isRel[h.id] {
				dcg += 1 / math.Log2(float64(r+2))
			}
		}
		for r := 0; r < min(len(isRel), k); r++ {
			idcg += 1 / math.Log2(float64(r+2))
		}
		ndcg[k] += dcg / idcg
	}
	for _, k := range cfg.MAPAtK {
		n, sum := 0.0, 0.0
		for r, h := range top(k) {
			if isRel[h.id] {
				n++
				sum += n / float64(r+1)
			}
		}
		mapK[k] += sum / math.Min(float64(k), nrel)
	}
}

// metrics are the means over the queries, under ST's keys.
func (m *retrievalSums) metrics(cfg RetrievalConfig) map[string]float64 {
	nq := m.nq
	out := map[string]float64{}
	put := func(metric string, m map[int]float64, ks []int) {
		for _, k := range ks {
			out["cosine_"+metric+"@"+strconv.Itoa(k)] = m[k] / float64(nq)
		}
	}
	put("accuracy", m.acc, cfg.AccuracyAtK)
	put("precision", m.prec, cfg.PrecisionRecallAtK)
	put("recall", m.rec, cfg.PrecisionRecallAtK)
	put("ndcg", m.ndcg, cfg.NDCGAtK)
	put("mrr", m.mrr, cfg.MRRAtK)
	put("map", m.mapK, cfg.MAPAtK)
	return out
}

// Primary metrics: the keys sentence-transformers uses to pick the best
// model for each evaluator.
const (
	PrimarySimilarity = "spearman_cosine"
	PrimaryRetrieval  = "cosine_ndcg@10"
	PrimaryTriplet    = "cosine_accuracy"
)

type hit struct {
	score float64
	id    string
}

// better orders hits as ST's (score, corpus id) tuples, largest first.
func (h hit) better(o hit) bool {
	if h.score != o.score {
		return h.score > o.score
	}
	return h.id > o.id
}

// topHits returns the k best corpus rows for the normalised query q, best
// first, in buf (a bounded selection: the worst kept hit sits at the end).
func topHits(q []float64, corpus Matrix, ids []string, k int, buf []hit) []hit {
	for c := 0; c < corpus.Rows; c++ {
		h := hit{dot(q, corpus.Row(c)), ids[c]}
		if len(buf) == k && !h.better(buf[k-1]) {
			continue
		}
		i := sort.Search(len(buf), func(i int) bool { return h.better(buf[i]) })
		if len(buf) < k {
			buf = append(buf, hit{})
		}
		copy(buf[i+1:], buf[i:len(buf)-1])
		buf[i] = h
	}
	return buf
}

func uniqueIDs(what string, ids []string) error {
	seen := make(map[string]bool, len(ids))
	for i, id := range ids {
		if seen[id] {
			return fmt.Errorf("embed: retrieval evaluator: %s id %q appears twice (again at row %d); ids must be unique", what, id, i)
		}
		seen[id] = true
	}
	return nil
}

// EvaluateTriplets is ST's TripletEvaluator with cosine similarity and margin
// 0: the fraction of triplets whose anchor is more similar to the positive
// than to the negative (key "cosine_accuracy").
func EvaluateTriplets(anchors, positives, negatives Matrix) (map[string]float64, error) {
	if err := sameShape("triplet evaluator", anchors, positives); err != nil {
		return nil, err
	}
	if err := sameShape("triplet evaluator", anchors, negatives); err != nil {
		return nil, err
	}
	if anchors.Rows == 0 {
		return nil, fmt.Errorf("embed: triplet evaluator: no triplets")
	}
	cos := similarityFns[0].fn
	n := 0
	for i := 0; i < anchors.Rows; i++ {
		if cos(anchors.Row(i), positives.Row(i)) > cos(anchors.Row(i), negatives.Row(i)) {
			n++
		}
	}
	return map[string]float64{"cosine_accuracy": float64(n) / float64(anchors.Rows)}, nil
}
