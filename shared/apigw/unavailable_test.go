package apigw

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"syscall"
	"testing"

	"github.com/aws/smithy-go"
)

// TestUnavailableDependencyIs503: an AWS service that cannot be reached, is throttling or fails on its side is a
// temporary condition the caller should retry: 503 with Retry-After, not a 500 (found by infra/faults with
// DynamoDB refusing connections).
func TestUnavailableDependencyIs503(t *testing.T) {
	refused := &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}
	tests := []struct {
		name   string
		err    error
		status int
	}{
		{"connection refused inside an SDK error", &smithy.OperationError{ServiceID: "DynamoDB", OperationName: "GetItem",
			Err: fmt.Errorf("send request: %w", refused)}, http.StatusServiceUnavailable},
		{"throttled", fmt.Errorf("get item: %w", &smithy.GenericAPIError{Code: "ProvisionedThroughputExceededException",
			Fault: smithy.FaultClient}), http.StatusServiceUnavailable},
		{"service fault", fmt.Errorf("put item: %w", &smithy.GenericAPIError{Code: "InternalServerError",
			Fault: smithy.FaultServer}), http.StatusServiceUnavailable},
		{"client fault stays 500", fmt.Errorf("put item: %w", &smithy.GenericAPIError{Code: "ValidationException",
			Fault: smithy.FaultClient}), http.StatusInternalServerError},
		{"plain error stays 500", errors.New("encode record"), http.StatusInternalServerError},
		{"cancelled stays 500", context.Canceled, http.StatusInternalServerError},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := asError(tt.err)
			if e.Status != tt.status {
				t.Fatalf("status %d, want %d", e.Status, tt.status)
			}
			if tt.status == http.StatusServiceUnavailable {
				if e.Headers["Retry-After"] == "" || e.Code != "server_error" || !errors.Is(e, tt.err) {
					t.Errorf("503 %+v: want Retry-After, server_error and the cause kept", e)
				}
			}
		})
	}
}
