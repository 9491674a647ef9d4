package notification

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/gitops-apiserver/gitops-apiserver/pkg/apis/common"
)

// Provider types.
const (
	GenericProvider                  = "generic"
	GenericHMACProvider              = "generic-hmac"
	SlackProvider                    = "slack"
	GrafanaProvider                  = "grafana"
	DiscordProvider                  = "discord"
	MSTeamsProvider                  = "msteams"
	RocketProvider                   = "rocket"
	GitHubDispatchProvider           = "githubdispatch"
	GitHubProvider                   = "github"
	GitHubPullRequestCommentProvider = "githubpullrequestcomment"
	GitLabProvider                   = "gitlab"
	GiteaProvider                    = "gitea"
	BitbucketServerProvider          = "bitbucketserver"
	BitbucketProvider                = "bitbucket"
	AzureDevOpsProvider              = "azuredevops"
	GoogleChatProvider               = "googlechat"
	GooglePubSubProvider             = "googlepubsub"
	WebexProvider                    = "webex"
	SentryProvider                   = "sentry"
	AzureEventHubProvider            = "azureeventhub"
	TelegramProvider                 = "telegram"
	LarkProvider                     = "lark"
	MatrixProvider                   = "matrix"
	OpsgenieProvider                 = "opsgenie"
	AlertManagerProvider             = "alertmanager"
	PagerDutyProvider                = "pagerduty"
	DataDogProvider                  = "datadog"
	NATSProvider                     = "nats"
	ZulipProvider                    = "zulip"
	OTELProvider                     = "otel"
)

// ProviderTypes lists every accepted spec.type, in Flux's enum order.
var ProviderTypes = []string{
	SlackProvider, DiscordProvider, MSTeamsProvider, RocketProvider,
	GenericProvider, GenericHMACProvider, GitHubProvider, GitLabProvider,
	GiteaProvider, BitbucketServerProvider, BitbucketProvider,
	AzureDevOpsProvider, GoogleChatProvider, GooglePubSubProvider,
	WebexProvider, SentryProvider, AzureEventHubProvider, TelegramProvider,
	LarkProvider, MatrixProvider, OpsgenieProvider, AlertManagerProvider,
	GrafanaProvider, GitHubDispatchProvider, GitHubPullRequestCommentProvider,
	PagerDutyProvider, DataDogProvider, NATSProvider, ZulipProvider,
	OTELProvider,
}

// CommitStatusProviderTypes lists the Git hosting types that set commit
// statuses and so may use spec.commitStatusExpr.
var CommitStatusProviderTypes = []string{
	GitHubProvider, GitLabProvider, GiteaProvider, BitbucketServerProvider,
	BitbucketProvider, AzureDevOpsProvider,
}

// +k8s:deepcopy-gen:interfaces=k8s.io/apimachinery/pkg/runtime.Object

// Provider describes where and how events are sent.
type Provider struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec ProviderSpec `json:"spec,omitempty"`
}

// ProviderSpec configures a notification endpoint.
type ProviderSpec struct {
	// Type selects the implementation, e.g. slack or github.
	Type string `json:"type"`
	// Interval is deprecated and ignored.
	// +optional
	Interval *common.Duration `json:"interval,omitempty"`
	// Channel to post to, at most 2048 characters.
	// +optional
	Channel string `json:"channel,omitempty"`
	// Username to post as, at most 2048 characters.
	// +optional
	Username string `json:"username,omitempty"`
	// Address of the endpoint (a URL, a project ID, ... depending on type),
	// at most 2048 characters.
	// +optional
	Address string `json:"address,omitempty"`
	// Timeout for one send; 15s when unset.
	// +optional
	Timeout *common.Duration `json:"timeout,omitempty"`
	// Proxy is an http(s) proxy URL. Deprecated: use ProxySecretRef.
	// +optional
	Proxy string `json:"proxy,omitempty"`
	// ProxySecretRef names a Secret with the proxy address and credentials.
	// +optional
	ProxySecretRef *common.LocalObjectReference `json:"proxySecretRef,omitempty"`
	// SecretRef names a Secret with the endpoint credentials.
	// +optional
	SecretRef *common.LocalObjectReference `json:"secretRef,omitempty"`
	// ServiceAccountName is used for workload identity with cloud providers
	// (azureeventhub, azuredevops, googlepubsub).
	// +optional
	ServiceAccountName string `json:"serviceAccountName,omitempty"`
	// CertSecretRef names a Secret with a CA and/or client TLS certificate.
	// +optional
	CertSecretRef *common.LocalObjectReference `json:"certSecretRef,omitempty"`
	// Suspend stops sending events through this Provider.
	// +optional
	Suspend bool `json:"suspend,omitempty"`
	// CommitStatusExpr is a CEL expression building the commit status
	// message; only for Git commit-status provider types.
	// +optional
	CommitStatusExpr string `json:"commitStatusExpr,omitempty"`
}

// +k8s:deepcopy-gen:interfaces=k8s.io/apimachinery/pkg/runtime.Object

// ProviderList is a list of Providers.
type ProviderList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []Provider `json:"items"`
}
