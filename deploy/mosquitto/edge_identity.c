/*
 * edge_identity: a Mosquitto 2.0 plugin (plugin API v5) that ties MQTT client ids to the
 * client certificate, so one device cannot take over another device's connection.
 *
 * Why a plugin: Mosquitto closes an existing connection when a new one arrives with the same
 * client id, before any ACL is consulted, and hands the newcomer the old persistent session
 * (its queued commands). `use_identity_as_username` alone therefore lets any trusted
 * certificate kick any device off-line, and `use_username_as_clientid` gives each
 * certificate ONE id while the agent needs two (its main connection and the `-avail` twin
 * that carries the plain-text `available` will).
 *
 * What it does, at CONNECT (the broker's basic-auth event; `use_identity_as_username` must
 * be false, otherwise Mosquitto skips this event):
 *   - it takes the certificate's common name (CN) as the identity (no certificate: refused);
 *   - client ids starting with the device prefix (`client_id_prefix`, default
 *     "edge-agent-") are reserved: only `<prefix><CN>` and `<prefix><CN>-avail` are allowed,
 *     any other reserved id is refused (CONNACK "not authorized") and logged;
 *   - a username other than the CN is refused;
 *   - the CN becomes the username, so the ACL file's `%u` patterns and `user` lines apply.
 * Other client ids (dashboards, Home Assistant) are free, as before.
 *
 * Build: deploy/mosquitto/build-identity-plugin.sh (needs a C compiler, libssl-dev,
 * mosquitto-dev and libmosquitto-dev).
 */
#include <stdio.h>
#include <string.h>

#include <openssl/asn1.h>
#include <openssl/objects.h>
#include <openssl/x509.h>

#include <mosquitto.h>
#include <mosquitto_broker.h>
#include <mosquitto_plugin.h>

#define ID_MAX 512

static mosquitto_plugin_id_t *plugin_id = NULL;
static char id_prefix[128] = "edge-agent-";
static const char *const avail_suffix = "-avail";

/* The certificate's CN in `out`; 0 on success. Refuses a CN with an embedded NUL. */
static int common_name(X509 *cert, char *out, size_t size)
{
	X509_NAME *name = X509_get_subject_name(cert);
	int index;
	X509_NAME_ENTRY *entry;
	ASN1_STRING *data;
	int length;

	if(name == NULL) return 1;
	index = X509_NAME_get_index_by_NID(name, NID_commonName, -1);
	if(index < 0) return 1;
	entry = X509_NAME_get_entry(name, index);
	if(entry == NULL) return 1;
	data = X509_NAME_ENTRY_get_data(entry);
	if(data == NULL) return 1;
	length = ASN1_STRING_length(data);
	if(length <= 0 || (size_t)length >= size) return 1;
	memcpy(out, ASN1_STRING_get0_data(data), (size_t)length);
	out[length] = '\0';
	if(strlen(out) != (size_t)length) return 1;
	return 0;
}

static int refuse(const char *client_id, const char *cn, const char *why)
{
	mosquitto_log_printf(MOSQ_LOG_WARNING,
			"edge_identity: refused client id '%s' for certificate CN '%s': %s",
			client_id ? client_id : "(none)", cn, why);
	return MOSQ_ERR_AUTH;
}

static int on_basic_auth(int event, void *event_data, void *userdata)
{
	struct mosquitto_evt_basic_auth *ed = event_data;
	char cn[256];
	char own[ID_MAX];
	char own_avail[ID_MAX];
	const char *client_id;
	X509 *cert;
	int bad;

	(void)event;
	(void)userdata;
	cert = mosquitto_client_certificate(ed->client);
	if(cert == NULL){
		return refuse(mosquitto_client_id(ed->client), "(none)", "no client certificate");
	}
	bad = common_name(cert, cn, sizeof(cn));
	X509_free(cert);
	if(bad){
		return refuse(mosquitto_client_id(ed->client), "(unreadable)", "no usable common name");
	}
	client_id = mosquitto_client_id(ed->client);
	if(client_id == NULL){
		return refuse(NULL, cn, "no client id");
	}
	if(strncmp(client_id, id_prefix, strlen(id_prefix)) == 0){
		snprintf(own, sizeof(own), "%s%s", id_prefix, cn);
		snprintf(own_avail, sizeof(own_avail), "%s%s%s", id_prefix, cn, avail_suffix);
		if(strcmp(client_id, own) != 0 && strcmp(client_id, own_avail) != 0){
			return refuse(client_id, cn, "a device id that is not this certificate's");
		}
	}
	if(ed->username != NULL && strcmp(ed->username, cn) != 0){
		return refuse(client_id, cn, "username differs from the certificate's common name");
	}
	if(mosquitto_set_username(ed->client, cn) != MOSQ_ERR_SUCCESS){
		return refuse(client_id, cn, "cannot set the username");
	}
	return MOSQ_ERR_SUCCESS;
}

int mosquitto_plugin_version(int supported_version_count, const int *supported_versions)
{
	int i;

	for(i = 0; i < supported_version_count; i++){
		if(supported_versions[i] == 5) return 5;
	}
	return -1;
}

int mosquitto_plugin_init(mosquitto_plugin_id_t *identifier, void **userdata,
		struct mosquitto_opt *options, int option_count)
{
	int i;

	(void)userdata;
	plugin_id = identifier;
	for(i = 0; i < option_count; i++){
		if(strcmp(options[i].key, "client_id_prefix") == 0){
			if(strlen(options[i].value) >= sizeof(id_prefix)) return MOSQ_ERR_INVAL;
			strcpy(id_prefix, options[i].value);
		}
	}
	return mosquitto_callback_register(plugin_id, MOSQ_EVT_BASIC_AUTH, on_basic_auth, NULL, NULL);
}

int mosquitto_plugin_cleanup(void *userdata, struct mosquitto_opt *options, int option_count)
{
	(void)userdata;
	(void)options;
	(void)option_count;
	return mosquitto_callback_unregister(plugin_id, MOSQ_EVT_BASIC_AUTH, on_basic_auth, NULL);
}
