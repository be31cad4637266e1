package alipaygw_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/tillbridge/tillbridge/alipay"
	"github.com/tillbridge/tillbridge/queue"
	"github.com/tillbridge/tillbridge/queue/alipaygw"
)

// TestPaySendsTheLanesStore proves a terminal with its own store sends that
// store's store_id/store_name in extend_info, while the other terminals keep
// the client's configured store — and every pay carries its terminal_id.
func TestPaySendsTheLanesStore(t *testing.T) {
	got := make(chan map[string]string, 4)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := r.ParseForm(); err != nil {
			t.Error(err)
		}
		var ext map[string]string
		if err := json.Unmarshal([]byte(r.PostForm.Get("extend_info")), &ext); err != nil {
			t.Errorf("extend_info %q: %v", r.PostForm.Get("extend_info"), err)
		}
		got <- ext
		http.Error(w, "no answer needed", http.StatusServiceUnavailable)
	}))
	defer srv.Close()
	client, err := alipay.NewClient(alipay.Config{GatewayURL: srv.URL, Partner: "2088101122136241",
		SignType: alipay.SignMD5, MD5Key: "10000000000000000000000000000000",
		Extend: alipay.ExtendInfo{SecondaryMerchantID: "M001", StoreID: "MAIN", StoreName: "Main Gate"}})
	if err != nil {
		t.Fatal(err)
	}
	gw := alipaygw.New(client, alipaygw.WithStores(map[string]alipay.ExtendInfo{
		"T-EAST": {StoreID: "EAST", StoreName: "East Gate"}}))

	cases := []struct{ terminal, store, name string }{
		{"T-EAST", "EAST", "East Gate"},
		{"T-MAIN", "MAIN", "Main Gate"},
	}
	for _, c := range cases {
		res, err := gw.Pay(context.Background(), queue.PayRequest{PartnerTransID: "TB" + c.terminal,
			BuyerCode: "281234567890123400", Amount: 1250, Currency: "HKD", Terminal: c.terminal})
		if err == nil || res.Outcome != queue.OutcomeUnknown {
			t.Fatalf("%s: HTTP 503 must be Unknown with an error, got %v, %v", c.terminal, res.Outcome, err)
		}
		ext := <-got
		if ext["terminal_id"] != c.terminal || ext["store_id"] != c.store || ext["store_name"] != c.name ||
			ext["secondary_merchant_id"] != "M001" {
			t.Errorf("%s: extend_info %v, want terminal %s, store %s / %s, merchant M001", c.terminal, ext, c.terminal, c.store, c.name)
		}
	}
}
